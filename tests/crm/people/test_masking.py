"""脱敏管理: each mode against owned, assigned, group and other customers; admins and pii.view
holders are 不脱敏; bad modes are refused."""
from __future__ import annotations

import pytest

from crm.customers.models import Customer
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from crm.people import masking
from crm.people import service as people
from crm.people.errors import PeopleError


@pytest.fixture
def world(db):
    """u owns `own`, is assigned `assigned` (in group A, where u is a salesperson), group A also
    holds `group_pool` (unassigned) and `group_other` (assigned to v); `stranger` is elsewhere."""
    u = people.create_user(db, "salesu", "Passw0rd123").id
    v = people.create_user(db, "salesv", "Passw0rd123").id
    with db.write() as s:
        rows = {k: Customer(name=k, mobile=f"1380013800{i}", owner_id=u if k == "own" else None)
                for i, k in enumerate(["own", "assigned", "group_pool", "group_other", "stranger"])}
        s.add_all(rows.values())
        a, b = CustomerGroup(name="A组"), CustomerGroup(name="B组")
        s.add_all([a, b])
        s.flush()
        s.add(GroupMember(group_id=a.id, user_id=u, role="sales"))
        s.add_all([GroupLink(customer_id=rows["assigned"].id, group_id=a.id, assignee_id=u),
                   GroupLink(customer_id=rows["group_pool"].id, group_id=a.id),
                   GroupLink(customer_id=rows["group_other"].id, group_id=a.id, assignee_id=v),
                   GroupLink(customer_id=rows["stranger"].id, group_id=b.id, assignee_id=v)])
        ids = {k: c.id for k, c in rows.items()}
    return {"u": u, "v": v, "ids": ids}


EXPECTED = {
    "mask": set(),
    "private_clear": {"own"},
    "assigned_clear": {"assigned"},
    "group_clear": {"assigned", "group_pool", "group_other"},
    "clear": {"own", "assigned", "group_pool", "group_other", "stranger"},
}


@pytest.mark.parametrize("mode", masking.MODES)
def test_each_mode_against_owned_assigned_group_and_other_customers(db, world, mode):
    by_id = {v: k for k, v in world["ids"].items()}
    with db.read() as s:
        clear = masking.clear_customer_ids(s, world["u"], mode, list(world["ids"].values()) + [None])
    assert {by_id[i] for i in clear} == EXPECTED[mode]


def test_set_based_over_many_ids(db, world):
    with db.read() as s:
        ids = list(range(100000, 101200)) + [world["ids"]["own"]]
        assert masking.clear_customer_ids(s, world["u"], "private_clear", ids) == {world["ids"]["own"]}
        assert masking.clear_customer_ids(s, world["u"], "group_clear", []) == set()


def test_effective_mode_admins_and_pii_view_are_clear(db, world):
    masking.set_mask_mode(db, world["u"], "assigned_clear")
    user = people.get_user(db, world["u"])
    assert masking.mask_mode_of(user, {"customers.view"}) == "assigned_clear"
    assert masking.mask_mode_of(user, {"pii.view"}) == "clear"
    user.is_admin = True
    assert masking.mask_mode_of(user, set()) == "clear"
    user.is_admin, user.mask_mode = False, "bogus"
    assert masking.mask_mode_of(user, set()) == "mask"
    assert masking.mask_mode_of(None, {"pii.view"}) == "mask"
    assert masking.lists_show_full("clear") and not masking.lists_show_full("group_clear")


def test_detail_page_check(db, world):
    masking.set_mask_mode(db, world["u"], "private_clear")
    user = people.get_user(db, world["u"])
    with db.read() as s:
        assert masking.can_see_full(s, user, set(), world["ids"]["own"])
        assert not masking.can_see_full(s, user, set(), world["ids"]["assigned"])
        assert masking.can_see_full(s, user, {"pii.view"}, world["ids"]["stranger"])
        assert not masking.can_see_full(s, None, {"pii.view"}, world["ids"]["own"])


def test_set_mask_mode_validates_and_bulk(db, world):
    assert masking.set_mask_mode(db, [world["u"], world["v"]], "group_clear") == sorted([world["u"], world["v"]])
    assert {u.mask_mode for u in masking.list_mask_modes(db, "sales")} == {"group_clear"}
    with pytest.raises(PeopleError, match="脱敏方式"):
        masking.set_mask_mode(db, world["u"], "open")
    with pytest.raises(PeopleError, match="用户不存在"):
        masking.set_mask_mode(db, [world["u"], 9999], "clear")
    assert people.get_user(db, world["u"]).mask_mode == "group_clear"
    with pytest.raises(PeopleError, match="请选择用户"):
        masking.set_mask_mode(db, [], "clear")
