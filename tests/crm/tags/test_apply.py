"""Manual tags (户外运动爱好者), personal tags, validity to local midnight, scores, history, events."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from config.clock import UTC
from crm.errors import CrmError, NotFound
from crm.tags import autotag, scores, service
from crm.tags.apply import apply_tags, expiry_for, remove_tags
from crm.tags.models import CustomerTag, TagHistory
from events.models import EventRecord
from tests.crm.tags.conftest import links, scores_of


def test_outdoor_lover_applied_by_a_user(services, make_customers, make_tag, users):
    xiaodan, _ = users
    ids = make_customers({"name": "张三"}, {"name": "李四"})
    outdoor = make_tag("户外运动爱好者", kind="manual", score=3)
    with services.db.write() as s:
        assert apply_tags(s, ids, [outdoor], operator_id=xiaodan, now=services.now()) == 2
        assert apply_tags(s, ids, [outdoor], operator_id=xiaodan, now=services.now()) == 0  # already there
    assert links(services, outdoor) == set(ids)
    assert scores_of(services, ids) == [3, 3]
    with services.db.write() as s:
        assert remove_tags(s, [ids[0]], [outdoor], operator_id=xiaodan, now=services.now()) == 1
        history = s.execute(select(TagHistory.customer_id, TagHistory.action, TagHistory.source,
                                   TagHistory.operator_id).order_by(TagHistory.id)).all()
        assert scores.drift(s) == 0
        events = s.execute(select(EventRecord.event_code, EventRecord.data).where(EventRecord.source == "crm")
                           .order_by(EventRecord.id)).all()
    assert history == [(ids[0], "add", "manual", xiaodan), (ids[1], "add", "manual", xiaodan),
                       (ids[0], "remove", "manual", xiaodan)]
    assert scores_of(services, ids) == [0, 3]
    assert [(code, data["customer_id"], data["tag_names"]) for code, data in events] == [
        ("crm.tag_added", ids[0], ["户外运动爱好者"]), ("crm.tag_added", ids[1], ["户外运动爱好者"]),
        ("crm.tag_removed", ids[0], ["户外运动爱好者"])]


def test_one_event_per_customer_for_several_tags(services, make_customers, make_tag):
    ids = make_customers({}, {})
    a, b = make_tag("甲", kind="manual", score=1), make_tag("乙", kind="manual", score=2)
    with services.db.write() as s:
        assert apply_tags(s, ids, [a, b], now=services.now()) == 4
        events = list(s.scalars(select(EventRecord).where(EventRecord.event_code == "crm.tag_added")))
    assert len(events) == 2 and events[0].data["tag_ids"] == [a, b]
    assert scores_of(services, ids) == [3, 3]


def test_auto_tags_cannot_be_applied_or_removed_by_hand(services, make_customers, make_tag):
    ids = make_customers({})
    auto = make_tag("自动", kind="auto")
    with services.db.write() as s, pytest.raises(CrmError, match="自动标签不能手动标记"):
        apply_tags(s, ids, [auto], operator_id=1)
    with services.db.write() as s, pytest.raises(CrmError, match="自动标签不能手动移除"):
        remove_tags(s, ids, [auto], operator_id=1)


def test_disabled_tags_cannot_be_applied_and_do_not_count(services, make_customers, make_tag):
    ids = make_customers({})
    tag_id = make_tag("靠谱", kind="manual", score=4)
    with services.db.write() as s:
        apply_tags(s, ids, [tag_id])
        service.set_enabled(s, [tag_id], False, None)
    assert scores_of(services, ids) == [0]
    with services.db.write() as s, pytest.raises(CrmError, match="已禁用"):
        apply_tags(s, ids, [tag_id])
    with services.db.write() as s:
        service.set_enabled(s, [tag_id], True, None)
        service.update_tag(s, tag_id, {"name": "靠谱", "kind": "manual", "category_id": s.get(
            type(service.get_tag(s, tag_id)), tag_id).category_id, "score": 10}, None)
    assert scores_of(services, ids) == [10]


def test_personal_tags_belong_to_their_owner(services, make_customers, make_tag, users):
    owner, other = users
    ids = make_customers({})
    mine = make_tag("我的VIP", kind="personal", owner=owner)
    with services.db.write() as s:
        assert apply_tags(s, ids, [mine], operator_id=owner) == 1
        with pytest.raises(NotFound):
            apply_tags(s, ids, [mine], operator_id=other)
        with pytest.raises(NotFound):
            service.get_tag(s, mine, other)
        assert [r["tag"].name for r in service.list_tags(s, owner)[0]] == ["我的VIP"]
        assert service.list_tags(s, other) == ([], 0)
        assert [t.id for t in service.choices(s, other)] == []
    from crm.tags.history import list_history

    with services.db.read() as s:
        assert list_history(s, owner)[1] == 1
        assert list_history(s, other)[1] == 0


def test_validity_one_natural_day_ends_at_the_next_local_midnight(services, make_customers, make_tag):
    # 2026-11-20 02:00 UTC is 10:00 in Shanghai; 1 自然日 → removed at 2026-11-21 00:00 Shanghai.
    assert expiry_for(datetime(2026, 11, 20, 2, 0, tzinfo=UTC), 1) == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    # 23:30 Shanghai (15:30 UTC) is still the same local day.
    assert expiry_for(datetime(2026, 11, 20, 15, 30, tzinfo=UTC), 3) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    assert expiry_for(datetime(2026, 11, 20, 15, 30, tzinfo=UTC), None) is None
    ids = make_customers({}, {})
    short = make_tag("短期标客户", kind="manual", validity_days=1, score=2)
    forever = make_tag("朋友介绍", kind="manual", score=1)
    with services.db.write() as s:
        apply_tags(s, ids, [short, forever], now=services.now())
    services.clock.set(datetime(2026, 11, 20, 15, 59, 59, tzinfo=UTC))  # 23:59:59 local
    assert autotag.expire_tags(services.db, services.now()) == 0
    services.clock.set(datetime(2026, 11, 20, 16, 0, tzinfo=UTC))  # 00:00 local
    assert autotag.expire_tags(services.db, services.now()) == 2
    assert links(services, short) == set() and links(services, forever) == set(ids)
    assert scores_of(services, ids) == [1, 1]
    with services.db.read() as s:
        assert set(s.scalars(select(TagHistory.source).where(TagHistory.action == "remove"))) == {"expiry"}


def test_reapplying_restarts_validity(services, make_customers, make_tag):
    ids = make_customers({})
    short = make_tag("短期", kind="manual", validity_days=2)
    with services.db.write() as s:
        apply_tags(s, ids, [short], now=services.now())
    services.clock.advance(days=1)
    with services.db.write() as s:
        apply_tags(s, ids, [short], now=services.now())
        link = s.scalar(select(CustomerTag))
    assert link.expires_at.replace(tzinfo=UTC) == expiry_for(services.now(), 2)


def test_deleting_a_tag_removes_it_from_customers_with_history(services, make_customers, make_tag):
    ids = make_customers({})
    a = make_tag("甲", kind="manual", score=5)
    with services.db.write() as s:
        apply_tags(s, ids, [a])
        assert service.delete_tag(s, a, 7) == 1
        assert s.scalar(select(TagHistory.operator_id).where(TagHistory.action == "remove")) == 7
    assert scores_of(services, ids) == [0]


def test_a_tag_used_by_a_rule_cannot_be_deleted(services, make_tag):
    a = make_tag("甲", kind="manual")
    make_tag("依赖甲", rule={"mode": "conditions", "include_tags": [a]})
    with services.db.write() as s, pytest.raises(CrmError, match="依赖甲"):
        service.delete_tag(s, a, None)


def test_bulk_apply_above_the_event_limit_emits_nothing(services, make_customers, make_tag, caplog):
    ids = make_customers(*({} for _ in range(1001)))
    a = make_tag("批量", kind="manual", score=1)
    with caplog.at_level("INFO", logger="ckb.tags"), services.db.write() as s:
        assert apply_tags(s, ids, [a]) == 1001
        assert s.scalar(select(EventRecord.id)) is None
        assert scores.drift(s) == 0
    assert "not emitted" in caplog.text
