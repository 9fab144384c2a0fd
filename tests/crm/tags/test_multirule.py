"""Several rules per tag (seed 001 标签规则 list): any rule matching gives the tag, a removed rule
takes its customers' auto links with it on the next run, rule 1's editor keeps the others, rules
2… are 自定义条件 only, and a loop through any rule is refused."""
from __future__ import annotations

import pytest

from crm.errors import CrmError, NotFound
from crm.tags import autotag, multirule, service
from tests.crm.tags.conftest import links, tag

SH = [{"field": "city", "op": "eq", "value": "上海"}]
BJ = [{"field": "city", "op": "eq", "value": "北京"}]


def test_any_rule_gives_the_tag(services, make_customers, make_tag):
    sh, bj, gz = make_customers({"name": "甲", "city": "上海"}, {"name": "乙", "city": "北京"}, {"name": "丙", "city": "广州"})
    tid = make_tag("一线城市", rule={"mode": "conditions", "rows": SH})
    with services.db.write() as s:
        multirule.save_alternative(s, tid, 0, {"name": "北京", "mode": "conditions", "rows": BJ}, None)
    report = autotag.run_auto_tags(services.db, now=services.now())
    assert not report.failed, report.summary()
    assert links(services, tid) == {sh, bj} and tag(services, tid).last_run_count == 2
    with services.db.write() as s:  # rule 1 saved again in its editor: rule 2 stays
        service.save_rule(s, tid, {"mode": "conditions", "rows": SH, "name": "上海"}, None)
    assert [r["name"] for r in multirule.all_rules(tag(services, tid))] == ["上海", "北京"]
    with services.db.write() as s:
        multirule.delete_alternative(s, tid, 0, None)
    autotag.run_auto_tags(services.db, now=services.now())
    assert links(services, tid) == {sh} and gz not in links(services, tid)


def test_rules_two_on_are_conditions_and_loop_free(services, make_customers, make_tag):
    first = make_tag("甲", rule={"mode": "conditions", "rows": SH})
    second = make_tag("乙", rule={"mode": "conditions", "include_tags": [first]})
    unset = make_tag("未配置")
    manual = make_tag("手动", kind="manual")
    with services.db.write() as s:
        with pytest.raises(CrmError, match="附加规则只能使用自定义条件"):
            multirule.save_alternative(s, first, 0, {"mode": "sql", "sql": "SELECT id FROM customer"}, None)
        with pytest.raises(CrmError, match="请先配置规则 1"):
            multirule.save_alternative(s, unset, 0, {"mode": "conditions", "rows": SH}, None)
        with pytest.raises(CrmError, match="只能为自动标签配置规则"):
            multirule.save_alternative(s, manual, 0, {"mode": "conditions", "rows": SH}, None)
        with pytest.raises(CrmError) as loop:
            multirule.save_alternative(s, first, 0, {"mode": "conditions", "include_tags": [second]}, None)
        assert "循环" in str(loop.value.errors)
        with pytest.raises(NotFound):
            multirule.save_alternative(s, first, 3, {"mode": "conditions", "rows": BJ}, None)
        with pytest.raises(NotFound):
            multirule.delete_alternative(s, first, 0, None)
    # the run order sees dependencies of rules 2… too: 甲 (rule 2 includes 丙) runs after 丙
    third = make_tag("丙", rule={"mode": "conditions", "rows": BJ})
    with services.db.write() as s:
        multirule.save_alternative(s, first, 0, {"mode": "conditions", "include_tags": [third]}, None)
    report = autotag.run_auto_tags(services.db, now=services.now())
    names = [r.name for r in report.runs]
    assert names.index("丙") < names.index("甲") < names.index("乙")
