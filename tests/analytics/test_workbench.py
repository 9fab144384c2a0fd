"""个性化工作台 and 默认工作台: a person's own choice wins, else their roles' defaults (the union in
the first role's order), else every panel; only permitted panels ever show; bad keys are refused."""
from __future__ import annotations

import pytest
from sqlmodel import select

from analytics import panels, workbench
from analytics.panels.errors import WorkbenchError
from analytics.workbench_models import RoleDefaultPanels
from crm.errors import NotFound
from crm.people import service as people
from crm.people.models import Role
from crm.people.permissions import ALL_PERMISSIONS, BUILTIN_ROLES
from crm.people.roles import delete_role

SALES = next(r for r in BUILTIN_ROLES if r.code == "sales").permissions


def keys(panel_list) -> list[str]:
    return [p.key for p in panel_list]


@pytest.fixture
def users(db):
    people.ensure_builtin_roles(db)
    people.create_role(db, "matrix", "矩阵运营", ["dashboard.view", "devices.view", "tags.view"])
    sales = people.create_user(db, "sales_a", "Sales12345", roles=["sales"]).id
    both = people.create_user(db, "both", "Both12345", roles=["matrix", "sales"]).id
    with db.read() as s:
        roles = {r.code: r.id for r in s.exec(select(Role)).all()}
    return {"sales": sales, "both": both, "roles": roles}


def test_without_any_choice_every_permitted_panel_in_registry_order(db, users):
    with db.read() as s:
        assert keys(workbench.layout(s, users["sales"], SALES)) == [
            "my_info", "today_tasks", "customer_moves", "my_targets", "followup_ranking", "tag_top"]
        assert keys(workbench.layout(s, users["sales"], ALL_PERMISSIONS)) == list(panels.PANELS)
        assert workbench.is_custom(s, users["sales"]) is False


def test_role_defaults_union_in_the_first_roles_order(db, users):
    r = users["roles"]
    with db.write() as s:
        workbench.set_role_default(s, r["sales"], ["today_tasks", "tag_top", "my_info"])
        workbench.set_role_default(s, r["matrix"], ["device_health", "tag_top", "my_info"])
    perms = set(SALES) | {"devices.view"}
    with db.read() as s:
        assert keys(workbench.layout(s, users["sales"], SALES)) == ["today_tasks", "tag_top", "my_info"]
        # sales was created before matrix: its order first, then what matrix adds.
        assert r["sales"] < r["matrix"]
        assert keys(workbench.layout(s, users["both"], perms)) == ["today_tasks", "tag_top", "my_info", "device_health"]
        # the same default without devices.view: the panel is not shown.
        assert keys(workbench.layout(s, users["both"], SALES)) == ["today_tasks", "tag_top", "my_info"]


def test_own_choice_wins_and_reset_returns_to_the_default(db, users):
    uid, r = users["sales"], users["roles"]
    with db.write() as s:
        workbench.set_role_default(s, r["sales"], ["my_info"])
        assert workbench.save_layout(s, uid, ["tag_top", "my_info", "tag_top", " today_tasks "], SALES) == [
            "tag_top", "my_info", "today_tasks"]
    with db.read() as s:
        assert keys(workbench.layout(s, uid, SALES)) == ["tag_top", "my_info", "today_tasks"]
        assert workbench.is_custom(s, uid)
    with db.write() as s:
        workbench.save_layout(s, uid, [], SALES)
    with db.read() as s:
        assert keys(workbench.layout(s, uid, SALES)) == []  # an empty home is a choice too
    with db.write() as s:
        workbench.reset_layout(s, uid)
    with db.read() as s:
        assert keys(workbench.layout(s, uid, SALES)) == ["my_info"] and not workbench.is_custom(s, uid)


def test_unknown_and_forbidden_keys_are_refused_in_chinese(db, users):
    uid, r = users["sales"], users["roles"]
    with db.write() as s:
        with pytest.raises(WorkbenchError) as unknown:
            workbench.save_layout(s, uid, ["my_info", "no_such_panel"], SALES)
        assert unknown.value.errors == {"panels": "未知的模块：no_such_panel"}
        with pytest.raises(WorkbenchError) as forbidden:
            workbench.save_layout(s, uid, ["engine_runs"], SALES)
        assert forbidden.value.errors == {"panels": "无权查看的模块：策略运行"}
        with pytest.raises(WorkbenchError) as beyond:
            workbench.set_role_default(s, r["sales"], ["my_info", "device_health"])
        assert "业务员" in beyond.value.errors["panels"] and "设备与账号告警" in beyond.value.errors["panels"]
        workbench.set_role_default(s, r["admin"], list(panels.PANELS))  # 管理员 may have every panel
        with pytest.raises(NotFound):
            workbench.set_role_default(s, 999999, ["my_info"])
        with pytest.raises(NotFound):
            workbench.clear_role_default(s, "x")
    with db.read() as s:
        assert workbench.saved_keys(s, uid) is None  # nothing half-written


def test_a_deleted_role_takes_its_default_along(db, users):
    r = users["roles"]
    people.create_role(db, "temp", "临时", ["dashboard.view"])
    with db.read() as s:
        temp = s.exec(select(Role).where(Role.code == "temp")).one().id
    with db.write() as s:
        workbench.set_role_default(s, temp, ["my_info"])
        workbench.set_role_default(s, r["sales"], ["tag_top"])
        workbench.clear_role_default(s, r["sales"])
    delete_role(db, temp)
    with db.read() as s:
        assert s.exec(select(RoleDefaultPanels)).all() == []
        listed = {row["role"].code: row["panels"] for row in workbench.role_defaults(s)}
        assert listed["sales"] is None and "temp" not in listed
