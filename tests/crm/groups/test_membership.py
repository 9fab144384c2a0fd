"""Group membership moves: add, assign, release to the group pool / company pool, logs, growth."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.customers.models import Customer, GrowthRecord
from crm.errors import CrmError
from crm.groups import membership
from crm.groups.models import CrmLog, GroupLink


def _links(world, group_id):
    return dict(world.rows(select(GroupLink.customer_id, GroupLink.assignee_id).where(GroupLink.group_id == group_id)))


def test_add_assign_release_cycle_with_logs(world, services):
    boss, li = world.user("boss"), world.user("lisi", "李四")
    g = world.group("VIP客户组", managers=[boss], sales=[li])
    ids = world.customers(3)
    now = services.now()

    assert world.write(lambda s: membership.add_to_group(s, ids, g, boss, now=now)) == 3
    assert world.write(lambda s: membership.add_to_group(s, ids, g, boss, now=now)) == 0  # already in
    assert _links(world, g) == {i: None for i in ids}

    assert world.write(lambda s: membership.assign(s, ids[:2], g, li, boss, now=now)) == 2
    assert _links(world, g) == {ids[0]: li, ids[1]: li, ids[2]: None}
    owners = dict(world.rows(select(Customer.id, Customer.owner_id).where(Customer.id.in_(ids))))
    assert owners == {ids[0]: li, ids[1]: li, ids[2]: None}

    assert world.write(lambda s: membership.release_to_group_pool(s, [ids[0]], g, boss, now=now)) == 1
    assert _links(world, g)[ids[0]] is None
    assert world.rows(select(Customer.owner_id).where(Customer.id == ids[0])) == [(None,)]

    assert world.write(lambda s: membership.release_to_company_pool(s, ids, boss, now=now)) == 3
    assert _links(world, g) == {}
    logs = world.rows(select(CrmLog.kind, CrmLog.action, CrmLog.customer_id, CrmLog.from_user_id)
                      .order_by(CrmLog.id))
    kinds = [(k, a) for k, a, _, _ in logs]
    assert kinds.count(("group", "add")) == 3
    assert kinds.count(("allocation", "assign")) == 2
    # one released by hand to the group pool, one released with the company-pool move
    assert [(c, f) for k, a, c, f in logs if (k, a) == ("allocation", "delete")] == [(ids[0], li), (ids[1], li)]
    assert kinds.count(("recycle", "release")) == 1 and kinds.count(("recycle", "pool")) == 3
    assert kinds.count(("group", "delete")) == 3
    growth = world.rows(select(GrowthRecord.summary).where(GrowthRecord.customer_id == ids[1]).order_by(GrowthRecord.id))
    assert [g for (g,) in growth] == ["加入分组「VIP客户组」", "分配给 李四（VIP客户组）", "退回公司公海"]


def test_assign_requires_membership_and_adds_to_group(world):
    li, outsider = world.user("lisi"), world.user("other")
    g = world.group("A组", sales=[li])
    ids = world.customers(2)
    with pytest.raises(CrmError) as err:
        world.write(lambda s: membership.assign(s, ids, g, outsider, None))
    assert "不是分组「A组」的成员" in err.value.message
    assert world.write(lambda s: membership.assign(s, ids, g, li, None)) == 2
    assert _links(world, g) == {ids[0]: li, ids[1]: li}


def test_break_old_releases_other_groups(world):
    a, b = world.user("a"), world.user("b")
    g1, g2 = world.group("一组", sales=[a]), world.group("二组", sales=[b])
    ids = world.customers(2)
    world.write(lambda s: membership.assign(s, ids, g1, a, None))
    assert world.write(lambda s: membership.add_to_group(s, ids, g2, None, break_old=False)) == 2
    assert _links(world, g1) == {ids[0]: a, ids[1]: a}
    world.write(lambda s: membership.release_to_company_pool(s, [ids[1]], None))
    world.write(lambda s: membership.assign(s, [ids[1]], g1, a, None))
    assert world.write(lambda s: membership.add_to_group(s, [ids[1]], g2, None, break_old=True)) == 1
    assert ids[1] not in _links(world, g1)
    assert world.rows(select(Customer.owner_id).where(Customer.id == ids[1])) == [(None,)]
    # customer 0 keeps its owner: it is still assigned in group 1
    assert world.rows(select(Customer.owner_id).where(Customer.id == ids[0])) == [(a,)]


def test_recycle_bin_is_excluded_and_restorable(world):
    a = world.user("a")
    g = world.group("一组", sales=[a])
    ids = world.customers(3)
    world.write(lambda s: membership.assign(s, ids, g, a, None))
    assert world.write(lambda s: membership.move_to_recycle_bin(s, ids[:2], a, "无效号码")) == 2
    assert _links(world, g) == {ids[2]: a}
    assert world.write(lambda s: membership.add_to_group(s, ids, g, None)) == 0
    assert world.write(lambda s: membership.assign(s, ids[:2], g, a, None)) == 0
    rows = world.rows(select(Customer.id, Customer.status, Customer.owner_id).where(Customer.id.in_(ids[:2])))
    assert {(c, st, o) for c, st, o in rows} == {(ids[0], "recycled", None), (ids[1], "recycled", None)}
    assert world.write(lambda s: membership.restore_from_recycle_bin(s, ids, a)) == 2
    assert {st for (st,) in world.rows(select(Customer.status).where(Customer.id.in_(ids)))} == {"active"}
    actions = [a for (a,) in world.rows(select(CrmLog.action).where(CrmLog.kind == "recycle"))]
    assert actions.count("recycle") == 2 and actions.count("restore") == 2
    reasons = {r for (r,) in world.rows(select(CrmLog.reason).where(CrmLog.action == "recycle"))}
    assert reasons == {"无效号码"}
