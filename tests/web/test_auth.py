"""Sign-in, sessions, guards, API bearer tokens and security headers (web.auth)."""
from __future__ import annotations

import pytest
from flask import Blueprint, jsonify

from crm.people import service as people
from web.auth.guards import api_auth, permission_required


def test_anonymous_is_sent_to_login(client, admin_user):
    resp = client.get("/users")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=/users")


def test_login_and_logout(client, admin_user, login, csrf_token):
    resp = login(client)
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "系统管理员" in page and "用户管理" in page and "退出登录" in page
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 302
    assert client.get("/users").status_code == 302


def test_login_follows_only_local_next(client, admin_user, csrf_token):
    token = csrf_token(client)
    form = {"username": "admin", "password": "Admin12345", "csrf_token": token}
    assert client.post("/login?next=/users", data=form).headers["Location"] == "/users"
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    form["csrf_token"] = csrf_token(client)
    assert client.post("/login?next=//evil.example/x", data=form).headers["Location"] == "/"


def test_wrong_password_and_lockout(client, admin_user, csrf_token, settings):
    token = csrf_token(client)
    for _ in range(settings.login_max_failures):
        resp = client.post("/login", data={"username": "admin", "password": "nope", "csrf_token": token})
        assert resp.status_code == 400 and "用户名或密码错误" in resp.get_data(as_text=True)
    resp = client.post("/login", data={"username": "admin", "password": "Admin12345", "csrf_token": token})
    assert resp.status_code == 429 and "尝试过于频繁，请稍后再试" in resp.get_data(as_text=True)
    assert 0 < int(resp.headers["Retry-After"]) <= settings.login_lockout_seconds


def test_lockout_ends_with_the_clock(client, admin_user, csrf_token, clock, settings):
    token = csrf_token(client)
    for _ in range(settings.login_max_failures):
        client.post("/login", data={"username": "admin", "password": "nope", "csrf_token": token})
    clock.advance(seconds=settings.login_lockout_seconds + 1)
    resp = client.post("/login", data={"username": "admin", "password": "Admin12345", "csrf_token": token})
    assert resp.status_code == 302


def test_post_without_csrf_token_is_rejected(client, admin_user, login):
    resp = client.post("/login", data={"username": "admin", "password": "Admin12345"})
    assert resp.status_code == 400
    assert "安全令牌" in resp.get_data(as_text=True)
    login(client)
    assert client.post("/logout").status_code == 400
    assert client.post("/users/new", data={"username": "x"}).status_code == 400


def test_secure_cookie_flags(settings, clock, tmp_path):
    from web import create_app

    app = create_app(settings.model_copy(update={"secure_cookies": True}), clock=clock)
    app.config.update(TESTING=True)
    people.create_user(app.extensions["ckb"].services.db, "admin", "Admin12345", is_admin=True)
    client = app.test_client()
    cookie = client.get("/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    app.extensions["ckb"].services.db.dispose()


def test_permission_denied_page_in_chinese(client, app_db, admin_user, login):
    people.create_user(app_db, "viewer1", "Viewer123", roles=["viewer"])
    login(client, "viewer1", "Viewer123")
    resp = client.get("/users")
    assert resp.status_code == 403
    text = resp.get_data(as_text=True)
    assert "无权访问" in text and "查看用户（users.view）" in text
    home = client.get("/").get_data(as_text=True)
    assert "用户管理" not in home and "角色管理" not in home


def test_roles_union_shows_pages(client, app_db, admin_user, login):
    people.create_role(app_db, "staff_admin", "人事", ["users.view"])
    people.create_user(app_db, "hr", "Hrpass123", roles=["viewer", "staff_admin"])
    login(client, "hr", "Hrpass123")
    assert client.get("/users").status_code == 200
    assert client.get("/users/new").status_code == 403
    assert client.get("/roles").status_code == 403


def test_disabled_user_is_logged_out(app, client, app_db, admin_user, login):
    bob = people.create_user(app_db, "bob", "Bobpass123", roles=["operator"])
    login(client, "bob", "Bobpass123")
    assert client.get("/notifications").status_code == 200
    people.set_enabled(app_db, bob.id, False, actor_id=admin_user.id)
    assert client.get("/notifications").status_code == 302
    resp = login(client, "bob", "Bobpass123")
    assert "该账号已被停用" in resp.get_data(as_text=True)


def test_password_change_ends_other_sessions(app, app_db, admin_user, login, csrf_token):
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second)
    resp = first.post("/account/password", data={
        "old_password": "Admin12345", "new_password": "Newpass123", "confirm": "Newpass123",
        "csrf_token": csrf_token(first)})
    assert resp.status_code == 302
    assert first.get("/users").status_code == 200
    assert second.get("/users").status_code == 302


def test_forced_password_change(client, app_db, admin_user, login, csrf_token):
    carol = people.create_user(app_db, "carol", "Carol1234", roles=["operator"])
    people.reset_password(app_db, carol.id, "Temp12345")
    resp = login(client, "carol", "Temp12345")
    assert resp.headers["Location"] == "/account/password"
    assert client.get("/notifications").headers["Location"] == "/account/password"
    page = client.get("/account/password").get_data(as_text=True)
    assert "管理员重置了你的密码" in page
    token = csrf_token(client, "/account/password")
    resp = client.post("/account/password", data={
        "old_password": "Temp12345", "new_password": "short", "confirm": "short", "csrf_token": token})
    assert resp.status_code == 400 and "密码至少需要 8 个字符" in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={
        "old_password": "Temp12345", "new_password": "Carol5678", "confirm": "Carol5678", "csrf_token": token})
    assert resp.status_code == 302
    assert client.get("/notifications").status_code == 200


def test_security_headers(client, admin_user):
    resp = client.get("/login")
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"]
    html = resp.get_data(as_text=True)
    assert "<script>" not in html and " style=" not in html and " onclick=" not in html
    assert "//cdn" not in html and "https://" not in html


@pytest.fixture
def api_app(app):
    """A tiny /api/v1 blueprint guarded by api_auth, as the API owner will write them."""
    bp = Blueprint("api_probe", __name__, url_prefix="/api/v1/probe")

    @bp.get("/read")
    @api_auth("history.view")
    def read():
        return jsonify({"ok": True})

    @bp.post("/write")
    @api_auth("users.manage")
    def write():
        return jsonify({"ok": True})

    app.register_blueprint(bp)
    return app


def test_api_bearer_tokens(api_app, app_db, admin_user):
    client = api_app.test_client()
    resp = client.get("/api/v1/probe/read")
    assert resp.status_code == 401
    assert resp.json["error"]["code"] == "unauthorized" and "令牌" in resp.json["error"]["message"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/api/v1/probe/read", headers={"Authorization": "Bearer ckb_bogus"}).status_code == 401
    people.create_user(app_db, "ops", "Opspass123", roles=["operator"])
    token = people.create_token(app_db, "ops", "脚本")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/probe/read", headers=auth).json == {"ok": True}
    # No CSRF token needed with a bearer token; the missing permission is named.
    resp = client.post("/api/v1/probe/write", headers=auth)
    assert resp.status_code == 403
    assert resp.json["error"]["code"] == "forbidden" and [d["permission"] for d in resp.json["error"]["details"]] == ["users.manage"]
    assert "管理用户" in resp.json["error"]["message"]
    admin_token = people.create_token(app_db, "admin", "管理脚本")
    assert client.post("/api/v1/probe/write", headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200
    assert client.get("/api/v1/nothing").json["error"]["code"] == "not_found"


def test_console_guard_helper(app, client, app_db, admin_user, login):
    bp = Blueprint("probe", __name__)

    @bp.get("/probe")
    @permission_required("strategies.test")
    def probe():
        return "ok"

    app.register_blueprint(bp)
    people.create_user(app_db, "ops", "Opspass123", roles=["operator"])
    people.create_user(app_db, "ro", "Readonly123", roles=["viewer"])
    login(client, "ops", "Opspass123")
    assert client.get("/probe").get_data(as_text=True) == "ok"
    login(client, "ro", "Readonly123")
    assert "试运行与回测" in client.get("/probe").get_data(as_text=True)


def test_notifications_page_and_badge(client, app_db, admin_user, login, csrf_token):
    note = people.notify(app_db, admin_user.id, "有 2 条死信待处理", "请到死信页面重放", "/deadletters", "engine")
    people.notify(app_db, admin_user.id, "导入完成")
    login(client)
    home = client.get("/").get_data(as_text=True)
    assert 'data-testid="unread-badge">2<' in home
    page = client.get("/notifications").get_data(as_text=True)
    assert "有 2 条死信待处理" in page and "请到死信页面重放" in page
    client.post("/notifications/read", data={"id": note.id, "csrf_token": csrf_token(client)})
    assert people.unread_count(app_db, admin_user.id) == 1
    resp = client.post("/notifications/read", data={"all": "1", "csrf_token": csrf_token(client)},
                       headers={"Accept": "application/json"})
    assert resp.json == {"marked": 1, "unread": 0}
    assert "unread-badge" not in client.get("/").get_data(as_text=True)


def test_tokens_page(client, app_db, admin_user, login, csrf_token):
    login(client)
    resp = client.post("/account/tokens", data={"name": "ERP 同步", "csrf_token": csrf_token(client)})
    text = resp.get_data(as_text=True)
    assert "令牌已创建" in text
    token = text.split('data-testid="new-token">', 1)[1].split("<", 1)[0]
    assert token.startswith("ckb_") and people.resolve_token(app_db, token).username == "admin"
    listing = client.get("/account/tokens").get_data(as_text=True)
    assert "ERP 同步" in listing and token not in listing
    row = people.list_tokens(app_db, admin_user.id)[0]
    client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": csrf_token(client)})
    assert people.resolve_token(app_db, token) is None


def test_user_admin_pages(client, app_db, admin_user, login, csrf_token):
    login(client)
    token = csrf_token(client)
    resp = client.post("/users/new", data={"username": "x", "password": "abc", "csrf_token": token})
    assert resp.status_code == 400 and "用户名需 2–32 位" in resp.get_data(as_text=True)
    resp = client.post("/users/new", data={
        "username": "dave", "display_name": "小戴", "password": "Dave12345", "mobile": "13800138000",
        "roles": ["operator"], "csrf_token": token})
    assert resp.status_code == 302
    dave = people.get_user_by_username(app_db, "dave")
    assert [r.code for r in people.roles_of(app_db, dave.id)] == ["operator"]
    listing = client.get("/users").get_data(as_text=True)
    assert "小戴" in listing and "13800138000" in listing  # admin holds pii.view
    resp = client.post(f"/users/{dave.id}/edit", data={
        "display_name": "戴主管", "roles": ["viewer"], "csrf_token": token})
    assert resp.status_code == 302
    assert [r.code for r in people.roles_of(app_db, dave.id)] == ["viewer"]
    client.post(f"/users/{dave.id}/enabled", data={"enabled": "0", "csrf_token": token})
    assert not people.get_user(app_db, dave.id).enabled
    client.post(f"/users/{dave.id}/reset-password", data={"password": "Reset1234", "csrf_token": token})
    assert people.get_user(app_db, dave.id).must_change_password
    resp = client.post(f"/users/{admin_user.id}/enabled", data={"enabled": "0", "csrf_token": token},
                       follow_redirects=True)
    assert "不能停用自己的账号" in resp.get_data(as_text=True)


def test_mobile_masked_without_pii_permission(client, app_db, admin_user, login):
    people.create_role(app_db, "hr", "人事", ["users.view"])
    people.create_user(app_db, "hr1", "Hrpass123", roles=["hr"], mobile="13912345678")
    login(client, "hr1", "Hrpass123")
    listing = client.get("/users").get_data(as_text=True)
    assert "139****5678" in listing and "13912345678" not in listing


def test_role_pages(client, app_db, admin_user, login, csrf_token):
    login(client)
    token = csrf_token(client)
    resp = client.post("/roles/new", data={"code": "shop", "name": "店长",
                                           "permissions": ["bogus.x"], "csrf_token": token})
    assert resp.status_code == 400 and "未知的权限" in resp.get_data(as_text=True)
    resp = client.post("/roles/new", data={"code": "shop", "name": "店长",
                                           "permissions": ["tasks.view", "history.view"], "csrf_token": token})
    assert resp.status_code == 302
    role = next(r for r, _ in people.list_roles(app_db) if r.code == "shop")
    preview = client.get(f"/roles/{role.id}/preview").get_data(as_text=True)
    assert "策略任务" in preview and "可见" in preview and "隐藏" in preview
    form = client.get(f"/roles/{role.id}/edit").get_data(as_text=True)
    assert "营销工具" not in form or "事件注册中心" in form  # grouped by menu
    assert client.post(f"/roles/{role.id}/delete", data={"csrf_token": token}).status_code == 302
    assert all(r.code != "shop" for r, _ in people.list_roles(app_db))


def test_menu_shows_only_built_pages_the_user_may_see():
    from web.navigation import menu_preview, visible_menu

    views = {"dashboard.index", "users.index", "users.roles", "account.notifications", "account.tokens"}
    labels = [i.label for g in visible_menu({"dashboard.view", "users.view", "tasks.view"}, views) for i in g.items]
    assert labels == ["首页", "用户管理", "站内通知", "API 令牌"]  # 策略任务 has no page yet
    preview = {i.label: shown for _, items in menu_preview({"tasks.view"}) for i, shown in items}
    assert preview["策略任务"] and not preview["角色管理"] and preview["站内通知"]
