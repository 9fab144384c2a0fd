"""打标签 / 移除标签 through the engine: an event finds the customer (by mobile written any way,
by id, by e-mail), the tag lands with source 策略 in 标签历史, history explains a missing
customer without showing the full number, and a replayed step changes nothing."""
from __future__ import annotations

import pytest

from crm.customers.models import Customer
from crm.tags.models import CustomerTag, TagHistory
from handlers.errors import PermanentError
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - fixtures
from tests.handlers.crm_kit import MOBILE, customer, growth, rows, run_direct, step, tag, tasks


def test_add_tag_by_name_from_the_event_and_mobile_lookup(kit):
    cid = customer(kit.svc)
    vip = tag(kit.svc, "VIP", score=5)
    kit.strategy("tag_customer", [], [step("crm.add_tag", tags="${tagName}")])
    kit.post({"event": "tag_customer", "data": {"mobile": "+86 138-0013-8000", "tagName": "VIP"}})
    kit.rt.tick()
    [task] = tasks(kit.svc)
    assert task.status == "done", task.last_error
    assert task.note == "已为客户「张三」添加标签：VIP"
    assert task.rendered["customer_id"] == cid and task.rendered["tags"] == ["VIP"]
    assert [(h.tag_id, h.action, h.source) for h in rows(kit.svc, TagHistory)] == [(vip, "add", "strategy")]
    assert rows(kit.svc, Customer, Customer.id == cid)[0].tag_score == 5
    assert growth(kit.svc, cid) == [f"策略 #{task.strategy_id}：添加标签 VIP（步骤 {task.idempotency_key}）"]


def test_customer_id_wins_then_mobile_then_email(kit):
    a = customer(kit.svc, "甲", "13900000001", email="a@example.com")
    b = customer(kit.svc, "乙", "13900000002", email="b@example.com")
    t = tag(kit.svc, "老客户")
    run_direct(kit, "crm.add_tag", {"customerId": b, "mobile": "13900000001"}, {"tags": str(t)}, "1:1:0")
    run_direct(kit, "crm.add_tag", {"customer_id": 9999, "email": "A@Example.com"}, {"tags": "老客户"}, "2:1:0")
    assert sorted(r.customer_id for r in rows(kit.svc, CustomerTag)) == sorted([a, b])
    out = run_direct(kit, "crm.add_tag", {"who": "13900000002"}, {"mobile": "${who}", "tags": "老客户"}, "3:1:0")
    assert out.note == "客户「乙」已有这些标签，无需添加：老客户"


def test_customer_not_found_is_a_clear_dead_step_without_the_full_number(kit):
    customer(kit.svc)
    tag(kit.svc, "VIP")
    kit.strategy("tag_customer", [], [step("crm.add_tag", tags="VIP")])
    kit.post({"event": "tag_customer", "data": {"customerId": "77", "mobile": "13912345678", "tagName": "VIP"}})
    kit.rt.tick()
    [task] = tasks(kit.svc)
    assert task.status == "dead" and task.attempts == 1
    assert task.last_error == "未找到客户：客户ID「77」、手机号「139****5678」都没有匹配的客户"
    with pytest.raises(PermanentError, match="事件数据中没有客户ID、手机号或邮箱"):
        run_direct(kit, "crm.add_tag", {"tagName": "VIP"}, {"tags": "VIP"})


def test_unknown_auto_and_ambiguous_tags_are_refused(kit):
    customer(kit.svc)
    tag(kit.svc, "自动A", kind="auto")
    tag(kit.svc, "重名")
    tag(kit.svc, "重名")
    data = {"mobile": MOBILE}
    with pytest.raises(PermanentError, match="标签不存在：不存在的标签"):
        run_direct(kit, "crm.add_tag", data, {"tags": "不存在的标签"})
    with pytest.raises(PermanentError, match="自动标签不能手动标记"):
        run_direct(kit, "crm.add_tag", data, {"tags": "自动A"})
    with pytest.raises(PermanentError, match="有多个名为「重名」的标签"):
        run_direct(kit, "crm.add_tag", data, {"tags": "重名"})
    assert rows(kit.svc, TagHistory) == [] and growth(kit.svc, 1) == []  # nothing half-written


def test_remove_tag_and_idempotent_replay(kit):
    cid = customer(kit.svc)
    t = tag(kit.svc, "待激活")
    run_direct(kit, "crm.add_tag", {"mobile": MOBILE}, {"tags": "待激活"}, "5:1:0")
    out = run_direct(kit, "crm.remove_tag", {"mobile": MOBILE}, {"tags": "待激活"}, "6:1:0")
    assert out.note == "已为客户「张三」移除标签：待激活" and out.response["removed"] == 1
    again = run_direct(kit, "crm.add_tag", {"mobile": MOBILE}, {"tags": "待激活"}, "5:1:0")  # same key as the add
    assert again.response["repeated"] is True and "未重复执行" in again.note
    assert rows(kit.svc, CustomerTag) == []
    assert [(h.tag_id, h.action) for h in rows(kit.svc, TagHistory)] == [(t, "add"), (t, "remove")]
    assert len(growth(kit.svc, cid)) == 2


def test_dry_run_finds_the_customer_and_writes_nothing(kit):
    customer(kit.svc)
    tag(kit.svc, "VIP")
    out = run_direct(kit, "crm.add_tag", {"mobile": MOBILE}, {"tags": "VIP"}, dry_run=True)
    assert out.request["customer_name"] == "张三" and "试运行" in out.note
    assert rows(kit.svc, CustomerTag) == []
