"""回收规则 (7 days without follow-up, then to someone else), 客户批量转移 (all / selected, with
转移记录), and 请求任务 limits."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update

from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups import allocation, membership, recycle
from crm.groups.models import CrmLog, GroupLink
from crm.groups.requests import request_customers
from crm.sales.models import Task
from crm.scope import SYSTEM

EVERYONE = {"mode": "conditions", "rows": [{"field": "tag_score", "op": "gte", "value": 0}]}


def _assignees(world, group_id):
    return dict(world.rows(select(GroupLink.customer_id, GroupLink.assignee_id).where(GroupLink.group_id == group_id)))


def test_recycle_after_seven_days_then_reassign_to_someone_else(world, services, clock):
    a, b = world.user("a"), world.user("b")
    g = world.group("电销组", sales=[a, b])
    ids = world.customers(4)
    world.write(lambda s: membership.assign(s, ids[:2], g, a, None, now=clock.now()))
    world.write(lambda s: membership.assign(s, ids[2:], g, b, None, now=clock.now()))
    world.write(lambda s: recycle.create_rule(s, g, {"name": "7天未跟进", "days_without_follow": 7}))
    clock.advance(days=6)
    # b followed one customer yesterday (day 6): it stays with b
    world.write(lambda s: s.execute(update(GroupLink).where(GroupLink.customer_id == ids[2])
                                    .values(last_followed_at=clock.now(), progress="following")))
    assert recycle.run_recycle(services.db, now=clock.now())["recycled"] == 0
    clock.advance(days=1, hours=1)
    out = recycle.run_recycle(services.db, now=clock.now())
    assert (out["recycled"], out["reassigned"]) == (3, 3)
    links = _assignees(world, g)
    assert links == {ids[0]: b, ids[1]: b, ids[2]: b, ids[3]: a}
    history = world.rows(select(CrmLog.customer_id, CrmLog.from_user_id, CrmLog.rule_name, CrmLog.operator_id)
                         .where(CrmLog.kind == "recycle", CrmLog.action == "release"))
    assert sorted(history) == [(ids[0], a, "7天未跟进", None), (ids[1], a, "7天未跟进", None),
                               (ids[3], b, "7天未跟进", None)]
    deletes = world.rows(select(CrmLog.customer_id).where(CrmLog.kind == "allocation", CrmLog.action == "delete"))
    assert sorted(c for (c,) in deletes) == [ids[0], ids[1], ids[3]]
    tasks = world.rows(select(Task.customer_id, Task.owner_id).where(Task.kind == "follow_up"))
    assert sorted(tasks) == [(ids[0], b), (ids[1], b), (ids[3], a)]
    owners = dict(world.rows(select(Customer.id, Customer.owner_id).where(Customer.id.in_(ids))))
    assert owners == links


def test_no_progress_rule_and_allocation_rules_first(world, services, clock):
    a, b, c = world.user("a"), world.user("b"), world.user("c")
    g = world.group("组", sales=[a, b, c])
    ids = world.customers(2)
    world.write(lambda s: membership.assign(s, ids, g, a, None, now=clock.now()))
    world.write(lambda s: s.execute(update(GroupLink).where(GroupLink.customer_id == ids[0])
                                    .values(last_followed_at=clock.now(), progress="following")))
    world.write(lambda s: s.execute(update(GroupLink).where(GroupLink.customer_id == ids[1])
                                    .values(last_followed_at=clock.now(), progress="intent")))
    world.write(lambda s: allocation.create_rule(s, g, {"name": "给c", "salespeople": [c], "rule": EVERYONE}))
    world.write(lambda s: recycle.create_rule(s, g, {"name": "3天无进展", "days_without_progress": 3}))
    clock.advance(days=4)
    out = recycle.run_recycle(services.db, now=clock.now())
    assert (out["recycled"], out["reassigned"]) == (1, 1)
    assert _assignees(world, g) == {ids[0]: c, ids[1]: a}


def test_transfer_all_and_selected_with_records(world, services):
    leaving, li, outsider = world.user("xiaodan", "业务员小丹"), world.user("lisi", "李四"), world.user("x")
    g = world.group("测试组", sales=[leaving, li])
    ids = world.customers(5)
    world.write(lambda s: membership.assign(s, ids[:3], g, leaving, None))
    private = world.customers(1, owner_id=leaving)
    world.write(lambda s: s.add(Task(title="跟进", kind="follow_up", customer_id=ids[0], owner_id=leaving)))
    with pytest.raises(CrmError) as err:
        world.write(lambda s: membership.transfer(s, leaving, outsider, reason="离职", viewer=SYSTEM))
    assert "不是分组「测试组」的成员" in err.value.message
    assert world.write(lambda s: membership.transfer(s, leaving, li, [ids[0]], "调岗", operator_id=li, viewer=SYSTEM)) == 1
    assert world.write(lambda s: membership.transfer(s, leaving, li, None, "业务员离职", operator_id=li, viewer=SYSTEM)) == 3
    assert set(_assignees(world, g).values()) == {li}
    owners = dict(world.rows(select(Customer.id, Customer.owner_id).where(Customer.id.in_(ids[:3] + private))))
    assert set(owners.values()) == {li}
    assert world.rows(select(Task.owner_id)) == [(li,)]
    records = world.rows(select(CrmLog.customer_id, CrmLog.from_user_id, CrmLog.to_user_id, CrmLog.rule_name,
                                CrmLog.reason, CrmLog.group_id).where(CrmLog.kind == "transfer").order_by(CrmLog.id))
    assert records[0] == (ids[0], leaving, li, "部分转移", "调岗", g)
    assert sorted(r[0] for r in records[1:]) == [ids[1], ids[2], private[0]]
    assert {r[3:5] for r in records[1:]} == {("全部转移", "业务员离职")}
    with pytest.raises(CrmError):
        world.write(lambda s: membership.transfer(s, li, li, viewer=SYSTEM))


def test_request_more_customers_limits(world, services, clock):
    a = world.user("a")
    g = world.group("组", sales=[a], allow_requests=True, requests_per_day=2, customers_per_request=2)
    ids = world.customers(5, tag_score=lambda i: i)
    world.write(lambda s: membership.add_to_group(s, ids, g, None))
    assert world.write(lambda s: request_customers(s, g, a, clock.now())) == 2
    assert sorted(c for c, u in _assignees(world, g).items() if u == a) == [ids[3], ids[4]]  # best first
    with pytest.raises(CrmError) as err:
        world.write(lambda s: request_customers(s, g, a, clock.now()))
    assert err.value.message == "请先完成手上的 2 个跟进任务"
    world.write(lambda s: s.execute(update(Task).values(status="done")))
    assert world.write(lambda s: request_customers(s, g, a, clock.now())) == 2
    world.write(lambda s: s.execute(update(Task).values(status="done")))
    with pytest.raises(CrmError) as err:
        world.write(lambda s: request_customers(s, g, a, clock.now()))
    assert err.value.message == "今天的请求次数已用完（每天 2 次）"
    clock.advance(days=1)
    assert world.write(lambda s: request_customers(s, g, a, clock.now())) == 1
    kinds = {r for (r,) in world.rows(select(CrmLog.rule_name).where(CrmLog.action == "request"))}
    assert kinds == {"主动请求"}
    world.write(lambda s: s.execute(update(Task).values(status="done")))
    with pytest.raises(CrmError) as err:
        world.write(lambda s: request_customers(s, g, a, clock.now()))
    assert err.value.message == "小组公海暂时没有可分配的客户"


def test_request_refused_when_not_allowed(world, clock):
    a = world.user("a")
    g = world.group("组", sales=[a])
    with pytest.raises(CrmError) as err:
        world.write(lambda s: request_customers(s, g, a, clock.now()))
    assert err.value.message == "分组「组」未开启请求客户"


def test_a_manager_transfers_only_the_customers_of_groups_they_manage(world, services):
    """crm.scope bounds a transfer: 部门经理 of 一组 cannot hand over the salesperson's 二组 customers."""
    from crm.scope import Viewer

    boss, sales, heir = world.user("boss"), world.user("sales"), world.user("heir")
    g1 = world.group("一组", managers=[boss], sales=[sales, heir])
    g2 = world.group("二组", sales=[sales, heir])
    mine, other = world.customers(2), world.customers(2)
    world.write(lambda s: membership.assign(s, mine, g1, sales, None))
    world.write(lambda s: membership.assign(s, other, g2, sales, None))
    manager = Viewer(boss, frozenset({"customers.transfer"}))
    assert world.write(lambda s: membership.transfer(s, sales, heir, None, "离职", boss, viewer=manager)) == 2
    assert world.write(lambda s: membership.transfer(s, sales, heir, other, "离职", boss, viewer=manager)) == 0
    owners = dict(world.rows(select(Customer.id, Customer.owner_id).where(Customer.id.in_(mine + other))))
    assert [owners[c] for c in mine] == [heir, heir] and [owners[c] for c in other] == [sales, sales]
