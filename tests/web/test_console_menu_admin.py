"""功能注册: the registry page lists every group and item with permission and page status; reorder,
hide/show, rename and 恢复默认 reach every user's sidebar; hiding never opens or closes a page."""
from __future__ import annotations

import re

import pytest

from crm.people import service as people
from web import navigation


def _sidebar(html: str) -> list[str]:
    nav = html[html.index('data-menu'):html.index('</nav>', html.index('data-menu'))]
    return re.findall(r'data-endpoint="([^"]+)"', nav)


def _groups(html: str) -> list[str]:
    return re.findall(r'data-menu-group="([^"]+)"', html)


@pytest.fixture
def other(app_db, admin_user):
    """An operator (not an admin): sees the changes an admin makes."""
    return people.create_user(app_db, "op", "Operator123", display_name="运营", roles=["operator"])


def _post(client, csrf_token, url, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, "/system/menu"), **data})


def test_the_page_lists_every_declared_group_and_item_with_permission_and_page_status(app, client, admin_user, login):
    login(client)
    html = client.get("/system/menu").get_data(as_text=True)
    for group in navigation.NAVIGATION:
        assert f'data-testid="group-{group.key}"' in html
        for item in group.items:
            assert f"<code>{item.endpoint}</code>" in html
    unbuilt = [i for g in navigation.NAVIGATION for i in g.items if i.endpoint not in app.view_functions]
    assert "已上线" in html and ("未建" in html) == bool(unbuilt)  # pages not built yet are listed as such
    assert "隐藏只影响菜单的显示" in html
    assert "<code>menu.manage</code>" in html


def test_hiding_renaming_and_reordering_reach_every_user_and_reset_restores(app, client, admin_user, other, login,
                                                                           csrf_token):
    login(client)
    op_client = app.test_client()
    login(op_client, "op", "Operator123")
    before = _sidebar(op_client.get("/customers").get_data(as_text=True))
    assert "groups.index" in before and "companies.index" in before

    assert _post(client, csrf_token, "/system/menu/item/groups.index/hide").status_code == 302
    _post(client, csrf_token, "/system/menu/item/companies.index/rename", label="客户公司")
    _post(client, csrf_token, "/system/menu/group/matrix/move/up")
    client.post("/system/menu/item/reorder?group=customers", json={"order": [
        "companies.index", *[i.endpoint for i in navigation.NAVIGATION[1].items if i.endpoint != "companies.index"]]},
        headers={"X-CSRFToken": csrf_token(client, "/system/menu")})

    html = op_client.get("/customers").get_data(as_text=True)
    after = _sidebar(html)
    assert "groups.index" not in after
    assert after.index("companies.index") < after.index("customers.index")
    assert "客户公司" in html
    groups = _groups(html)
    declared = [g.key for g in navigation.NAVIGATION if g.key in groups]
    assert groups.index("matrix") == declared.index("matrix") - 1
    # Presentation only: the hidden page still opens for whoever holds its permission.
    assert op_client.get("/groups").status_code == 200

    assert _post(client, csrf_token, "/system/menu/reset").status_code == 302
    assert _sidebar(op_client.get("/customers").get_data(as_text=True)) == before


def test_bad_keys_and_orders_are_refused(client, admin_user, login, csrf_token):
    login(client)
    assert _post(client, csrf_token, "/system/menu/item/nope.index/hide").status_code == 404
    assert _post(client, csrf_token, "/system/menu/group/nope/move/up").status_code == 404
    resp = _post(client, csrf_token, "/system/menu/item/customers.index/rename", label="长" * 41)
    assert resp.status_code == 302
    assert "名称最多 40 个字符" in client.get("/system/menu").get_data(as_text=True)
    token = csrf_token(client, "/system/menu")
    resp = client.post("/system/menu/group/reorder", json={"order": ["home"]}, headers={"X-CSRFToken": token})
    assert resp.status_code == 400
    resp = client.post("/system/menu/item/reorder?group=customers", json={"order": "x"}, headers={"X-CSRFToken": token})
    assert resp.status_code == 400


def test_only_menu_managers_open_the_page(app, client, admin_user, other, login, csrf_token):
    login(client, "op", "Operator123")
    assert client.get("/system/menu").status_code == 403
    assert client.post("/system/menu/reset", data={"csrf_token": csrf_token(client, "/customers")}).status_code == 403


def test_the_menu_is_read_once_per_revision(app, client, admin_user, login, csrf_token):
    login(client)
    client.get("/customers")
    cached = app.extensions["ckb_menu_overrides"]
    client.get("/customers")
    assert app.extensions["ckb_menu_overrides"] is cached  # same revision: nothing re-read
    _post(client, csrf_token, "/system/menu/item/groups.index/hide")
    client.get("/customers")
    assert app.extensions["ckb_menu_overrides"][0] == cached[0] + 1


def test_the_workbench_picker_follows_the_menu(app, client, admin_user, login, csrf_token):
    from analytics.panels import PANELS
    from web import menu_registry

    login(client)
    _post(client, csrf_token, "/system/menu/group/customers/rename", label="客户中心")
    client.post("/system/menu/group/reorder", json={"order": ["matrix", *[g.key for g in navigation.NAVIGATION
                                                                           if g.key != "matrix"]]},
                headers={"X-CSRFToken": csrf_token(client, "/system/menu")})
    html = client.get("/").get_data(as_text=True)
    assert "客户中心 › 客户档案" in html  # 今日客户动向's module, as the menu now names it
    with app.test_request_context():
        ordered, modules = menu_registry.by_menu(PANELS.values())
    assert ordered[0].key == "device_health"  # 矩阵管理 moved to the top of the menu
    assert modules["device_health"] == "矩阵管理 › 设备管理" and modules["my_info"] == "首页"
