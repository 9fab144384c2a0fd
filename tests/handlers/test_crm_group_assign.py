"""移入客户分组 and 分配客户 through the engine: a CRM event (客户创建) drives the step, a named
salesperson gets the customer and a follow-up task, the group's 分配规则 pick one otherwise,
recycled customers are refused, and replays never assign or create tasks twice."""
from __future__ import annotations

import pytest

from crm.customers import service as customers
from crm.customers.models import Customer
from crm.groups import allocation
from crm.groups.models import CrmLog, GroupLink
from crm.sales.models import Task
from events.models import EventRecord
from handlers.errors import PermanentError
from tests.engine.conftest import engine_services, kit, runtime  # noqa: F401 - fixtures
from tests.handlers.crm_kit import MOBILE, customer, group, growth, rows, run_direct, step, tasks, user


def test_customer_created_event_moves_the_customer_into_a_group(kit):
    gid = group(kit.svc, "新客户组")
    kit.strategy("crm.customer_created", [], [step("crm.move_to_group", group="新客户组")])
    with kit.svc.db.write() as s:
        cid = customers.create_customer(s, {"name": "王五", "mobile": "13800138001"}).id
    kit.rt.tick()
    [record] = rows(kit.svc, EventRecord, EventRecord.source == "crm")
    assert record.outcome == "matched", (record.status, record.errors)
    [task] = tasks(kit.svc)
    assert task.status == "done" and task.note == "已把客户「王五」移入分组「新客户组」"
    assert [(link.customer_id, link.assignee_id) for link in rows(kit.svc, GroupLink, GroupLink.group_id == gid)] == [(cid, None)]
    out = run_direct(kit, "crm.move_to_group", {"customerId": cid}, {"group": str(gid)})
    assert out.note == "客户「王五」已在分组「新客户组」中"


def test_break_old_and_unknown_group(kit):
    cid = customer(kit.svc)
    a, b = group(kit.svc, "A组"), group(kit.svc, "B组")
    run_direct(kit, "crm.move_to_group", {"mobile": MOBILE}, {"group": "A组"}, "1:1:0")
    run_direct(kit, "crm.move_to_group", {"mobile": MOBILE}, {"group": "B组", "break_old": True}, "2:1:0")
    assert [link.group_id for link in rows(kit.svc, GroupLink, GroupLink.customer_id == cid)] == [b]
    with pytest.raises(PermanentError, match="客户分组不存在：C组"):
        run_direct(kit, "crm.move_to_group", {"mobile": MOBILE}, {"group": "C组"})
    assert a


def test_assign_to_a_named_salesperson_with_task_once(kit):
    li = user(kit.svc, "lisi", "李四")
    gid = group(kit.svc, "电销组", sales=[li])
    cid = customer(kit.svc)
    kit.strategy("tag_customer", [], [step("crm.assign", group="电销组", salesperson="lisi")])
    kit.post({"event": "tag_customer", "data": {"customerId": str(cid), "tagName": "x"}})
    kit.rt.tick()
    [task] = tasks(kit.svc)
    assert task.status == "done" and task.note == "已把客户「张三」分配给 李四（电销组）", task.last_error
    assert rows(kit.svc, Customer, Customer.id == cid)[0].owner_id == li
    [follow] = rows(kit.svc, Task, Task.customer_id == cid)
    assert (follow.owner_id, follow.kind) == (li, "follow_up")
    again = run_direct(kit, "crm.assign", {"customerId": cid}, {"group": "电销组", "salesperson": "lisi"})
    assert "已分配给 李四" in again.note and "未重复分配" in again.note
    assert len(rows(kit.svc, Task, Task.customer_id == cid)) == 1
    assert [c.action for c in rows(kit.svc, CrmLog, CrmLog.kind == "allocation")] == ["assign"]
    assert growth(kit.svc, cid)[0].startswith(f"策略 #{task.strategy_id}：已把客户「张三」分配给 李四")
    assert gid


def test_assign_refuses_non_members_and_recycled_customers(kit):
    user(kit.svc, "outsider")
    group(kit.svc, "电销组")
    customer(kit.svc)
    customer(kit.svc, "回收的", "13900000009", status="recycled")
    with pytest.raises(PermanentError, match="不是分组「电销组」的成员"):
        run_direct(kit, "crm.assign", {"mobile": MOBILE}, {"group": "电销组", "salesperson": "outsider"})
    with pytest.raises(PermanentError, match="在回收站中，不能分配"):
        run_direct(kit, "crm.assign", {"mobile": "13900000009"}, {"group": "电销组", "salesperson": "outsider"})
    with pytest.raises(PermanentError, match="业务员不存在：nobody"):
        run_direct(kit, "crm.assign", {"mobile": MOBILE}, {"group": "电销组", "salesperson": "nobody"})
    assert rows(kit.svc, GroupLink) == []


def test_assign_by_the_groups_allocation_rules(kit):
    li, zhang = user(kit.svc, "lisi", "李四"), user(kit.svc, "zhang", "张三丰")
    gid = group(kit.svc, "电销组", sales=[li, zhang])
    with kit.svc.db.write() as s:
        allocation.create_rule(s, gid, {"name": "老客户给张三丰", "salespeople": [zhang], "rule": {
            "mode": "conditions", "rows": [{"field": "follow_count", "op": "gt", "value": 0}]}})
        allocation.create_rule(s, gid, {"name": "跟进次数为0", "salespeople": [li], "rule": {
            "mode": "conditions", "rows": [{"field": "follow_count", "op": "eq", "value": 0}]}})
    fresh = customer(kit.svc, "新客", "13900000001", follow_count=0)
    kit.strategy("tag_customer", [], [step("crm.assign", group="电销组")])
    kit.post({"event": "tag_customer", "data": {"mobile": "13900000001", "tagName": "x"}})
    kit.rt.tick()
    [task] = tasks(kit.svc)
    assert task.note == "按分配规则「跟进次数为0」把客户「新客」分配给 李四（电销组）", task.last_error
    assert task.result["rule"] == "跟进次数为0"
    [link] = rows(kit.svc, GroupLink, GroupLink.customer_id == fresh)
    assert link.assignee_id == li
    assert [t.owner_id for t in rows(kit.svc, Task, Task.customer_id == fresh)] == [li]


def test_no_matching_rule_leaves_the_customer_in_the_group_pool(kit):
    li = user(kit.svc, "lisi", "李四")
    gid = group(kit.svc, "电销组", sales=[li])
    with kit.svc.db.write() as s:
        allocation.create_rule(s, gid, {"name": "高分", "salespeople": [], "rule": {
            "mode": "conditions", "rows": [{"field": "tag_score", "op": "gt", "value": 100}]}})
    cid = customer(kit.svc)
    out = run_direct(kit, "crm.assign", {"mobile": MOBILE}, {"group": "电销组"})
    assert out.note == "没有匹配的分配规则，客户「张三」留在分组「电销组」公海" and out.response["assigned"] == 0
    [link] = rows(kit.svc, GroupLink, GroupLink.customer_id == cid)
    assert link.assignee_id is None
