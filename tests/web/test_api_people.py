"""/api/v1/users and /api/v1/departments: read-only, what the console's user list and org tree show —
roles, departments, masked mobile / e-mail without pii.view, never a password hash or token; the
department tree with member counts and members (with sub-departments or not); admin-only reads."""
from __future__ import annotations

from crm.people import departments, roles as role_service, service as people
from tests.web.api_helpers import Api, api, assert_error, token_for, viewer_api  # noqa: F401 - fixtures


def _org(app_db):
    people.ensure_builtin_roles(app_db)
    li = people.create_user(app_db, "sales_li", "Passw0rd123", display_name="李娜", email="lina@example.com",
                            mobile="13900139000", roles=["sales"]).id
    top = departments.create_department(app_db, "销售中心")
    sub = departments.create_department(app_db, "电销一部", parent_id=top.id)
    departments.add_users(app_db, sub.id, [li])
    return li, top.id, sub.id


def test_users_and_departments_read(api, app_db):  # noqa: F811
    li, top, sub = _org(app_db)
    users = api.ok("GET", "/api/v1/users")["items"]
    lina = next(u for u in users if u["id"] == li)
    assert lina["roles"] == [{"code": "sales", "name": "业务员"}] and lina["departments"] == [{"id": sub, "name": "电销一部"}]
    assert lina["mobile"] == "13900139000" and lina["email"] == "lina@example.com"  # admin holds pii.view
    hashes = [u.password_hash for u, _roles in people.list_users(app_db)]
    text = api.get("/api/v1/users").get_data(as_text=True)
    assert all(h not in text for h in hashes) and "password_hash" not in text and "failed_logins" not in text
    assert "mask_mode" not in text and "token" not in text
    assert [u["username"] for u in api.ok("GET", "/api/v1/users?q=李")["items"]] == ["sales_li"]
    assert [u["id"] for u in api.ok("GET", f"/api/v1/users?department_id={top}")["items"]] == [li]
    assert api.ok("GET", f"/api/v1/users/{li}")["display_name"] == "李娜"
    tree = api.ok("GET", "/api/v1/departments")["items"]
    assert tree[0]["name"] == "销售中心" and tree[0]["children"][0]["member_count"] == 1
    assert [u["id"] for u in api.ok("GET", f"/api/v1/departments/{top}/users")["items"]] == [li]
    assert api.ok("GET", f"/api/v1/departments/{top}/users?include_children=false")["items"] == []
    assert_error(api.get("/api/v1/users/999999"), 404, "999999")
    assert_error(api.get("/api/v1/departments/999999/users"), 404, "999999")
    assert_error(api.get("/api/v1/users?department_id=999999"), 404, "999999")
    assert_error(api.get(f"/api/v1/departments/{top}/users?include_children=maybe"), 400, "include_children")


def test_masked_without_pii_view_and_admin_only(api, app, app_db, viewer_api):  # noqa: F811
    li, _top, _sub = _org(app_db)
    role_service.create_role(app_db, "hr", "人事（无敏感信息）", {"users.view", "org.manage"})
    hr = Api(app.test_client(), token_for(app_db, "hr1", ["hr"]))
    text = hr.get(f"/api/v1/users/{li}").get_data(as_text=True)
    assert "13900139000" not in text and "139****9000" in text and "lina@example.com" not in text
    assert "13900139000" not in hr.get("/api/v1/users").get_data(as_text=True)
    assert_error(viewer_api.get("/api/v1/users"), 403, "users.view")
    assert_error(viewer_api.get("/api/v1/departments"), 403, "org.manage")
