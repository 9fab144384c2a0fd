"""The seed's auto tags: 可投资资产10万-50万 by condition and by SQL, 20w-50w持仓 with preview,
dependency order, re-runs that change nothing, history rows and scores."""
from __future__ import annotations

from sqlalchemy import select

from crm.customers.models import Customer, CustomField
from crm.errors import CrmError
from crm.tags import autotag, scores, service
from crm.tags.models import TagHistory
from tests.crm.tags.conftest import links, scores_of, tag

RANGE_ROWS = [{"field": "investable_assets", "op": "gt", "value": "100000", "join": "and"},
              {"field": "investable_assets", "op": "lte", "value": "500000"}]
RANGE_SQL = ("SELECT id FROM customer WHERE json_extract(attrs, '$.investable_assets') > 100000 "
             "AND json_extract(attrs, '$.investable_assets') <= 500000")
# The same rule as a marketer on PostgreSQL writes it.
RANGE_SQL_PG = ("SELECT id FROM customer WHERE (attrs->>'investable_assets')::numeric > 100000 "
                "AND (attrs->>'investable_assets')::numeric <= 500000")


def _assets(make_customers, *amounts):
    return make_customers(*({"name": f"客户{a}", "attrs": {"investable_assets": a}} for a in amounts))


def test_investable_assets_by_condition_and_by_sql_agree(services, assets_field, make_customers, make_tag):
    ids = _assets(make_customers, 50_000, 100_000, 100_001, 300_000, 500_000, 500_001)
    by_rows = make_tag("可投资资产10万-50万", rule={"mode": "conditions", "rows": RANGE_ROWS}, score=2)
    by_sql = make_tag("可投资资产10万-50万(SQL)", rule={"mode": "sql", "sql": RANGE_SQL_PG if services.db.is_postgres else RANGE_SQL})
    report = autotag.run_auto_tags(services.db, now=services.now())
    assert not report.failed, report.summary()
    expected = {ids[2], ids[3], ids[4]}
    assert links(services, by_rows) == expected == links(services, by_sql)
    assert scores_of(services, ids) == [0, 0, 2, 2, 2, 0]
    assert tag(services, by_rows).last_run_count == 3
    assert "新增 6 条" in report.summary()


def test_second_run_changes_nothing_and_removes_who_no_longer_match(services, assets_field, make_customers, make_tag):
    ids = _assets(make_customers, 200_000, 300_000)
    tag_id = make_tag("可投资资产10万-50万", rule={"mode": "conditions", "rows": RANGE_ROWS}, score=5)
    autotag.run_auto_tags(services.db, now=services.now())
    again = autotag.run_auto_tags(services.db, now=services.now())
    assert (again.added, again.removed) == (0, 0)
    with services.db.write() as s:
        c = s.get(Customer, ids[0])
        c.attrs = {"investable_assets": 900_000}
        s.add(c)
    third = autotag.run_auto_tags(services.db, now=services.now())
    assert (third.added, third.removed) == (0, 1)
    assert links(services, tag_id) == {ids[1]}
    assert scores_of(services, ids) == [0, 5]
    with services.db.read() as s:
        rows = s.execute(select(TagHistory.customer_id, TagHistory.action, TagHistory.source, TagHistory.tag_name)
                         .order_by(TagHistory.id)).all()
        assert scores.drift(s) == 0
    assert rows == [(ids[0], "add", "auto", "可投资资产10万-50万"), (ids[1], "add", "auto", "可投资资产10万-50万"),
                    (ids[0], "remove", "auto", "可投资资产10万-50万")]


def test_position_20w_50w_preview_before_saving(services, make_customers, make_tag):
    with services.db.write() as s:
        s.add(CustomField(key="max_position", label="历史最大持仓", type="number"))
    ids = make_customers(*({"name": f"持仓{v}", "attrs": {"max_position": v}} for v in (150_000, 200_000, 499_999, 500_000)))
    spec = {"mode": "conditions", "name": "20w-50w持仓",
            "rows": [{"field": "max_position", "op": "gte", "value": 200000, "join": "and"},
                     {"field": "max_position", "op": "lt", "value": 500000}]}
    preview = service.preview_rule(services.db, spec)
    assert preview["count"] == 2
    assert {c.id for c in preview["customers"]} == {ids[1], ids[2]}
    tag_id = make_tag("20w-50w持仓", rule=spec)
    assert tag(services, tag_id).rule["name"] == "20w-50w持仓"
    autotag.run_auto_tags(services.db, [tag_id], now=services.now())
    assert links(services, tag_id) == {ids[1], ids[2]}


def test_include_and_exclude_tags_run_after_the_tags_they_read(services, assets_field, make_customers, make_tag):
    ids = _assets(make_customers, 200_000, 300_000, 5_000_000)
    # The dependents are created first, so id order alone would run them too early.
    first, second = make_tag("重点客户"), make_tag("非高净值")
    rich = make_tag("高净值", rule={"mode": "conditions", "rows": [{"field": "investable_assets", "op": "gt", "value": 1000000}]})
    mid = make_tag("中产", rule={"mode": "conditions", "rows": RANGE_ROWS})
    with services.db.write() as s:
        service.save_rule(s, first, {"mode": "conditions", "include_tags": [rich, mid]}, None)
        service.save_rule(s, second, {"mode": "conditions", "exclude_tags": [rich]}, None)
    report = autotag.run_auto_tags(services.db, now=services.now())
    order = [r.tag_id for r in report.runs]
    assert order.index(first) > order.index(mid) > order.index(rich) and order.index(second) > order.index(rich)
    assert links(services, first) == set(ids)
    assert links(services, second) == {ids[0], ids[1]}


def test_rules_may_not_depend_on_themselves(services, assets_field, make_tag):
    a = make_tag("A", rule={"mode": "conditions", "rows": RANGE_ROWS})
    b = make_tag("B", rule={"mode": "conditions", "include_tags": [a]})
    with services.db.write() as s:
        try:
            service.save_rule(s, a, {"mode": "conditions", "include_tags": [a]}, None)
            raise AssertionError("self-include accepted")
        except CrmError as exc:
            assert "自身" in exc.errors["include_tags"]
        try:
            service.save_rule(s, a, {"mode": "conditions", "exclude_tags": [b]}, None)
            raise AssertionError("loop accepted")
        except CrmError as exc:
            assert exc.errors["exclude_tags"] == "规则形成循环：「A」 → 「B」 → 「A」"


def test_a_broken_rule_is_reported_and_the_others_still_run(services, assets_field, make_customers, make_tag):
    ids = _assets(make_customers, 200_000)
    good = make_tag("好规则", rule={"mode": "conditions", "rows": RANGE_ROWS})
    bad = make_tag("坏规则", rule={"mode": "sql", "sql": "SELECT id FROM customer"})
    with services.db.write() as s:  # written behind the service's back, as an old row might be
        t = s.get(type(tag(services, bad)), bad)
        t.rule = {"mode": "sql", "sql": "SELECT id, name FROM customer"}
        s.add(t)
    report = autotag.run_auto_tags(services.db, now=services.now())
    assert [r.name for r in report.failed] == ["坏规则"]
    assert "一列" in report.summary()
    assert links(services, good) == set(ids)


def test_recycled_customers_are_not_tagged(services, assets_field, make_customers, make_tag):
    ids = make_customers({"attrs": {"investable_assets": 200_000}},
                         {"attrs": {"investable_assets": 200_000}, "status": "recycled"})
    tag_id = make_tag("可投资资产10万-50万", rule={"mode": "conditions", "rows": RANGE_ROWS})
    autotag.run_auto_tags(services.db, now=services.now())
    assert links(services, tag_id) == {ids[0]}


def test_small_runs_emit_crm_events(services, assets_field, make_customers, make_tag):
    from events.models import EventRecord

    ids = _assets(make_customers, 200_000, 300_000)
    make_tag("可投资资产10万-50万", rule={"mode": "conditions", "rows": RANGE_ROWS})
    autotag.run_auto_tags(services.db, now=services.now())
    with services.db.read() as s:
        records = list(s.scalars(select(EventRecord).where(EventRecord.source == "crm")))
    assert sorted(r.data["customer_id"] for r in records if r.event_code == "crm.tag_added") == ids
