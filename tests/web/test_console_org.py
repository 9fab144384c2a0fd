"""组织管理 and 脱敏管理 pages: render in Chinese, department and member actions through the
forms, enable/disable and password reset, per-user and bulk masking modes; staff admin only."""
from __future__ import annotations

import pytest

from crm.people import departments as deps
from crm.people import service as people


@pytest.fixture
def admin(client, admin_user, login, csrf_token):
    login(client)
    return csrf_token(client, "/org")


@pytest.fixture
def staff(app_db):
    return {name: people.create_user(app_db, name, "Passw0rd123", display_name=disp).id
            for name, disp in (("zhang", "张三"), ("li", "李四"))}


def test_pages_render_and_menu_links(client, admin):
    page = client.get("/org").get_data(as_text=True)
    assert "组织管理" in page and "新建部门" in page and "还没有部门" in page and "全部人员" in page
    assert 'href="/org/masking"' in page  # menu shows 脱敏管理
    page = client.get("/org/masking").get_data(as_text=True)
    for label in ("脱敏", "私有客户不脱敏", "分配的客户不脱敏", "小组客户不脱敏", "不脱敏", "138****8000"):
        assert label in page


def test_department_tree_and_members_through_the_forms(client, admin, app_db, staff):
    post = lambda url, **data: client.post(url, data={"csrf_token": admin, **data})  # noqa: E731
    assert post("/org/departments", name="总部").status_code == 302
    hq = deps.tree(app_db)[0].id
    post("/org/departments", name="销售部", parent_id=str(hq))
    post("/org/departments", name="客服部", parent_id=str(hq))
    sales = deps.flatten(deps.tree(app_db))[1].id
    page = client.get(f"/org?dep={hq}").get_data(as_text=True)
    assert "销售部" in page and "新建下级" in page and "添加人员" in page
    post(f"/org/departments/{sales}/users", user_ids=[str(staff["zhang"]), str(staff["li"])])
    page = client.get(f"/org?dep={hq}").get_data(as_text=True)
    assert 'cell-strong">张三<' in page and 'cell-strong">李四<' in page  # 包含下级
    assert 'cell-strong">张三<' not in client.get(f"/org?dep={hq}&children=0").get_data(as_text=True)
    resp = client.post(f"/org/departments/{sales}/delete", data={"csrf_token": admin}, follow_redirects=True)
    assert "还有 2 名成员" in resp.get_data(as_text=True)
    post(f"/org/departments/{sales}/users/{staff['li']}/remove")
    assert [u.username for u in deps.department_users(app_db, sales)] == ["zhang"]
    post(f"/org/departments/{sales}/rename", name="销售一部")
    post(f"/org/departments/{sales}/shift", direction="down", back_dep=str(sales))
    assert [n.name for n in deps.flatten(deps.tree(app_db))] == ["总部", "客服部", "销售一部"]
    resp = client.post(f"/org/departments/{hq}/move", data={"csrf_token": admin, "parent_id": str(sales)},
                       follow_redirects=True)
    assert "下级部门之下" in resp.get_data(as_text=True)
    resp = client.post("/org/departments", data={"csrf_token": admin, "name": ""}, follow_redirects=True)
    assert "部门名称不能为空" in resp.get_data(as_text=True)


def test_enable_disable_and_reset_password(client, admin, app_db, staff):
    client.post(f"/org/users/{staff['li']}/enabled", data={"csrf_token": admin, "enabled": "0"})
    assert not people.get_user(app_db, staff["li"]).enabled
    resp = client.post(f"/org/users/{staff['li']}/reset-password", data={"csrf_token": admin, "password": "short"},
                       follow_redirects=True)
    assert "重置密码失败" in resp.get_data(as_text=True)
    client.post(f"/org/users/{staff['li']}/reset-password", data={"csrf_token": admin, "password": "Temp12345"})
    assert people.get_user(app_db, staff["li"]).must_change_password
    client.post(f"/org/users/{staff['li']}/enabled", data={"csrf_token": admin, "enabled": "1"})
    assert people.get_user(app_db, staff["li"]).enabled


def test_masking_single_and_bulk(client, admin, app_db, staff):
    client.post("/org/masking", data={"csrf_token": admin, "user_ids": str(staff["zhang"]), "mode": "private_clear"})
    assert people.get_user(app_db, staff["zhang"]).mask_mode == "private_clear"
    resp = client.post("/org/masking", data={"csrf_token": admin, "user_ids": [str(staff["zhang"]), str(staff["li"])],
                                             "mode": "group_clear"}, follow_redirects=True)
    assert "已将 2 名用户设为「小组客户不脱敏」" in resp.get_data(as_text=True)
    resp = client.post("/org/masking", data={"csrf_token": admin, "mode": "clear"}, follow_redirects=True)
    assert "请选择用户" in resp.get_data(as_text=True)
    resp = client.post("/org/masking", data={"csrf_token": admin, "user_ids": str(staff["li"]), "mode": "x"},
                       follow_redirects=True)
    assert "请选择脱敏方式" in resp.get_data(as_text=True)
    page = client.get("/org/masking").get_data(as_text=True)
    assert "管理员" in page  # the admin is shown as forced 不脱敏


def test_operators_cannot_manage_staff(app, app_db, admin_user, login, staff):
    people.create_user(app_db, "op", "Passw0rd123", roles=["operator"])
    client = app.test_client()
    login(client, "op", "Passw0rd123")
    assert client.get("/org").status_code == 403
    assert client.get("/org/masking").status_code == 403
