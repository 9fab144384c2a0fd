"""分配规则: the seed's "跟进次数 = 0 → 李四", even round-robin from the least loaded, tag score
first, MGM first, one follow-up task per assignment, the recycle bin staying out."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from crm.customers.models import Customer
from crm.groups import allocation, membership
from crm.groups.models import CrmLog, GroupLink
from crm.sales.models import Task

EVERYONE = {"mode": "conditions", "rows": [{"field": "tag_score", "op": "gte", "value": 0}]}


def _assignees(world, group_id):
    return dict(world.rows(select(GroupLink.customer_id, GroupLink.assignee_id).where(GroupLink.group_id == group_id)))


def test_seed_follow_count_zero_to_lisi(world, services):
    li, zhang = world.user("lisi", "李四"), world.user("zhangsan", "张三")
    g = world.group("电销组", sales=[li, zhang])
    fresh = world.customers(3, follow_count=0)
    followed = world.customers(2, follow_count=4)
    world.write(lambda s: membership.add_to_group(s, fresh + followed, g, None))
    world.write(lambda s: allocation.create_rule(s, g, {
        "name": "跟进次数为0", "salespeople": [li],
        "rule": {"mode": "conditions", "rows": [{"field": "follow_count", "op": "eq", "value": 0}]}}))
    out = allocation.run_allocation(services.db, g, now=services.now())
    assert out["assigned"] == 3
    links = _assignees(world, g)
    assert {links[c] for c in fresh} == {li} and {links[c] for c in followed} == {None}
    tasks = world.rows(select(Task.customer_id, Task.owner_id, Task.kind, Task.title).order_by(Task.customer_id))
    assert [(c, o, k) for c, o, k, _ in tasks] == [(c, li, "follow_up") for c in fresh]
    assert tasks[0][3] == f"跟进客户 客户{fresh[0]}"
    logs = world.rows(select(CrmLog.customer_id, CrmLog.to_user_id, CrmLog.rule_name)
                      .where(CrmLog.kind == "allocation", CrmLog.action == "assign"))
    assert sorted(logs) == [(c, li, "跟进次数为0") for c in fresh]


def test_even_spread_tag_score_order_and_least_loaded_first(world, services):
    a, b, c = world.user("a"), world.user("b"), world.user("c")
    g = world.group("组", sales=[a, b, c])
    held = world.customers(2)
    world.write(lambda s: membership.assign(s, held, g, a, None))  # a already holds two
    world.write(lambda s: membership.assign(s, held[:1], g, a, None))
    pool = world.customers(7, tag_score=lambda i: [5, 90, 90, 10, 70, 0, 30][i])
    world.write(lambda s: membership.add_to_group(s, pool, g, None))
    world.write(lambda s: allocation.create_rule(s, g, {"name": "全部", "rule": EVERYONE}))
    assert allocation.run_allocation(services.db, g, now=services.now())["assigned"] == 7
    links = _assignees(world, g)
    # best first: 90 (lower id), 90, 70, 30, 10, 5, 0; always to the least loaded, round-robin among equals:
    # b and c hold none (b has the lower id), a holds two already.
    ordered = [pool[1], pool[2], pool[4], pool[6], pool[3], pool[0], pool[5]]
    assert [links[x] for x in ordered] == [b, c, b, c, a, b, c]
    assert Counter(links.values()) == Counter({a: 3, b: 3, c: 3})


def test_mgm_customer_goes_to_inviters_salesperson(world, services):
    a, b, outsider = world.user("a"), world.user("b"), world.user("x")
    g = world.group("组", sales=[a, b])
    inviter = world.customers(1)[0]
    world.write(lambda s: membership.assign(s, [inviter], g, b, None))
    other_inviter = world.customers(1, owner_id=outsider)[0]
    invited = world.customers(3, invited_by_id=inviter, tag_score=1)
    stranger = world.customers(1, invited_by_id=other_inviter, tag_score=50)
    world.write(lambda s: membership.add_to_group(s, invited + stranger, g, None))
    world.write(lambda s: allocation.create_rule(s, g, {"name": "全部", "rule": EVERYONE}))
    allocation.run_allocation(services.db, g, now=services.now())
    links = _assignees(world, g)
    assert [links[c] for c in invited] == [b, b, b]
    assert links[stranger[0]] == a  # the inviter's owner is not in the group: normal spread (a holds fewest)


def test_recycle_bin_and_other_pools_are_left_alone(world, services):
    a = world.user("a")
    g, other = world.group("组", sales=[a]), world.group("别的组", sales=[a])
    ids = world.customers(3)
    world.write(lambda s: membership.add_to_group(s, ids, g, None))
    world.write(lambda s: membership.add_to_group(s, ids, other, None))
    world.write(lambda s: membership.move_to_recycle_bin(s, [ids[0]], None, "空号"))
    world.write(lambda s: membership.add_to_group(s, [ids[0]], g, None))  # refused silently: recycled
    world.write(lambda s: allocation.create_rule(s, g, {"name": "全部", "rule": EVERYONE}))
    assert allocation.run_allocation(services.db, g, now=services.now())["assigned"] == 2
    assert _assignees(world, other) == {ids[1]: None, ids[2]: None}
    assert world.rows(select(Customer.status).where(Customer.id == ids[0])) == [("recycled",)]


def test_rule_salespeople_must_be_members(world):
    a, x = world.user("a"), world.user("x")
    g = world.group("组", sales=[a])
    import pytest
    from crm.errors import CrmError

    with pytest.raises(CrmError) as err:
        world.write(lambda s: allocation.create_rule(s, g, {"name": "r", "salespeople": [x], "rule": EVERYONE}))
    assert err.value.errors["salespeople"] == "所选业务员不是分组「组」的成员"
