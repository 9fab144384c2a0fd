"""组织管理: the department tree (create, rename, move, reorder, delete rules) and members in
several departments, listed with or without 包含下级."""
from __future__ import annotations

import pytest

from crm.people import departments as deps
from crm.people import service as people
from crm.people.errors import PeopleError


@pytest.fixture
def org(db):
    """总部 → 销售部 → (营销一组, 营销二组); 总部 → 客服部."""
    hq = deps.create_department(db, "总部")
    sales = deps.create_department(db, "销售部", hq.id)
    one = deps.create_department(db, "营销一组", sales.id)
    two = deps.create_department(db, "营销二组", sales.id)
    service = deps.create_department(db, "客服部", hq.id)
    return {"hq": hq.id, "sales": sales.id, "one": one.id, "two": two.id, "service": service.id}


def _user(db, name):
    return people.create_user(db, name, "Passw0rd123", display_name=name).id


def _names(nodes):
    return [(n.name, n.depth) for n in deps.flatten(nodes)]


def test_tree_in_display_order_with_depth(db, org):
    assert _names(deps.tree(db)) == [("总部", 0), ("销售部", 1), ("营销一组", 2), ("营销二组", 2), ("客服部", 1)]


def test_names_required_and_unique_among_siblings(db, org):
    with pytest.raises(PeopleError, match="不能为空"):
        deps.create_department(db, "  ", org["hq"])
    with pytest.raises(PeopleError, match="已有名为「销售部」"):
        deps.create_department(db, "销售部", org["hq"])
    deps.create_department(db, "销售部", org["service"])  # same name elsewhere is fine
    with pytest.raises(PeopleError, match="已有名为「营销二组」"):
        deps.rename_department(db, org["one"], "营销二组")
    assert deps.rename_department(db, org["one"], "营销A组").name == "营销A组"
    with pytest.raises(PeopleError, match="部门不存在"):
        deps.create_department(db, "孤儿", 9999)


def test_move_reorder_and_cycles_refused(db, org):
    deps.move_department(db, org["two"], org["sales"], 0)
    assert _names(deps.tree(db))[2:4] == [("营销二组", 2), ("营销一组", 2)]
    deps.shift_department(db, org["two"], 1)
    assert _names(deps.tree(db))[2:4] == [("营销一组", 2), ("营销二组", 2)]
    deps.shift_department(db, org["one"], -1)  # already first: stays
    assert _names(deps.tree(db))[2] == ("营销一组", 2)
    with pytest.raises(PeopleError, match="下级部门之下"):
        deps.move_department(db, org["hq"], org["one"])
    with pytest.raises(PeopleError, match="下级部门之下"):
        deps.move_department(db, org["sales"], org["sales"])
    deps.move_department(db, org["one"], org["service"])
    deps.move_department(db, org["service"], None)
    assert _names(deps.tree(db)) == [("总部", 0), ("销售部", 1), ("营销二组", 2), ("客服部", 0), ("营销一组", 1)]


def test_delete_refused_while_children_or_members(db, org):
    alice = _user(db, "alice")
    with pytest.raises(PeopleError, match="2 个下级部门"):
        deps.delete_department(db, org["sales"])
    deps.add_users(db, org["one"], [alice])
    with pytest.raises(PeopleError, match="1 名成员"):
        deps.delete_department(db, org["one"])
    deps.remove_user(db, org["one"], alice)
    deps.delete_department(db, org["one"])
    deps.delete_department(db, org["two"])
    deps.delete_department(db, org["sales"])
    assert _names(deps.tree(db)) == [("总部", 0), ("客服部", 1)]


def test_users_in_several_departments_and_include_children(db, org):
    alice, bob, carol = _user(db, "alice"), _user(db, "bob"), _user(db, "carol")
    assert deps.add_users(db, org["one"], [alice, bob]) == 2
    assert deps.add_users(db, org["one"], [alice]) == 0  # already there
    deps.add_users(db, org["two"], [alice])
    deps.add_users(db, org["service"], [carol])

    def usernames(dep, children=True, search=""):
        return [u.username for u in deps.department_users(db, dep, children, search)]

    assert usernames(org["sales"]) == ["alice", "bob"]  # alice once although in two sub-groups
    assert usernames(org["sales"], children=False) == []
    assert usernames(org["hq"]) == ["alice", "bob", "carol"]
    assert usernames(org["hq"], search="car") == ["carol"]
    assert [d.name for d in deps.departments_of(db, [alice])[alice]] == ["营销一组", "营销二组"]
    assert {n.name: n.member_count for n in deps.flatten(deps.tree(db))}["营销一组"] == 2
    with pytest.raises(PeopleError, match="部分用户不存在"):
        deps.add_users(db, org["one"], [alice, 4242])
    deps.set_user_departments(db, alice, [org["service"]])
    assert [d.name for d in deps.departments_of(db, [alice])[alice]] == ["客服部"]
    with pytest.raises(PeopleError, match="部分部门不存在"):
        deps.set_user_departments(db, alice, [4242])
    assert [d.name for d in deps.departments_of(db, [alice])[alice]] == ["客服部"]  # nothing half-written


def test_enable_disable_and_reset_password_reuse_people_service(db, org):
    people.ensure_builtin_roles(db)
    people.create_user(db, "root", "Passw0rd123", is_admin=True)
    alice = _user(db, "alice")
    deps.add_users(db, org["one"], [alice])
    people.set_enabled(db, alice, False)
    assert [u.enabled for u in deps.department_users(db, org["one"])] == [False]
    people.reset_password(db, alice, "Temp12345")
    assert people.get_user(db, alice).must_change_password
