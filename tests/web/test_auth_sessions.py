"""Server-side console sessions (a copied cookie dies at logout, password change, reset and
disable) and flash messages kept out of the session cookie."""
from __future__ import annotations

from sqlmodel import select

from crm.people import service as people
from crm.people.models import ApiToken, AuthSession
from tests.web.conftest import get_csrf_token


def _browser_with(app, cookie: str):
    """Another browser holding a copy of a session cookie (what a thief would have)."""
    browser = app.test_client()
    browser.set_cookie("session", cookie)
    return browser


def _cookie_data(app, client) -> dict:
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(client.get_cookie("session").value)


def _sessions(app_db, user_id):
    with app_db.read() as s:
        return s.exec(select(AuthSession).where(AuthSession.user_id == user_id)).all()


def test_copied_cookie_dies_at_logout_and_cannot_mint_tokens(app, client, app_db, admin_user, login):
    login(client)
    csrf = get_csrf_token(client, "/account/tokens")
    stolen = client.get_cookie("session").value
    assert _browser_with(app, stolen).get("/users").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 302

    resp = _browser_with(app, stolen).get("/users")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    # The copy still carries a valid CSRF token: only the server-side revocation stops it.
    resp = _browser_with(app, stolen).post("/account/tokens", data={"name": "stolen", "csrf_token": csrf})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")
    with app_db.read() as s:
        assert s.exec(select(ApiToken)).all() == []
    [row] = _sessions(app_db, admin_user.id)
    assert row.revoked_at is not None and row.ip == "127.0.0.1"
    # The cookie holds a random session token, not the user id.
    assert set(_cookie_data(app, _browser_with(app, stolen))) <= {"sid", "csrf_token", "_flash_ref"}


def test_password_change_and_admin_reset_end_copied_sessions(app, app_db, admin_user, login, csrf_token):
    first, second = app.test_client(), app.test_client()
    login(first)
    login(second)
    stolen = second.get_cookie("session").value
    first.post("/account/password", data={"old_password": "Admin12345", "new_password": "Newpass123",
                                          "confirm": "Newpass123", "csrf_token": csrf_token(first, "/")})
    assert first.get("/users").status_code == 200
    assert _browser_with(app, stolen).get("/users").status_code == 302
    assert [r.revoked_at is None for r in _sessions(app_db, admin_user.id)] == [False, False, True]

    bob = people.create_user(app_db, "bob", "Bobpass123", roles=["operator"])
    browser = app.test_client()
    login(browser, "bob", "Bobpass123")
    stolen = browser.get_cookie("session").value
    people.reset_password(app_db, bob.id, "Temp12345")
    assert _browser_with(app, stolen).get("/notifications").status_code == 302


def test_disabled_users_copied_session_is_dead(app, client, app_db, admin_user, login):
    bob = people.create_user(app_db, "bob", "Bobpass123", roles=["operator"])
    login(client, "bob", "Bobpass123")
    stolen = client.get_cookie("session").value
    people.set_enabled(app_db, bob.id, False, actor_id=admin_user.id)
    people.set_enabled(app_db, bob.id, True, actor_id=admin_user.id)
    # Enabling the account again does not bring the old session back.
    assert _browser_with(app, stolen).get("/notifications").status_code == 302
    assert all(r.revoked_at is not None for r in _sessions(app_db, bob.id))


def test_idle_session_ends(app, client, clock, admin_user, login, settings):
    login(client)
    clock.advance(hours=settings.session_idle_hours - 1)
    assert client.get("/users").status_code == 200
    clock.advance(hours=settings.session_idle_hours + 1)
    assert client.get("/users").status_code == 302


def test_flash_messages_stay_out_of_the_cookie(app, client, app_db, admin_user, login, csrf_token):
    login(client)
    resp = client.post("/users/new", data={
        "username": "zhangsf", "password": "Zhang12345", "display_name": "张三丰",
        "mobile": "13812345678", "csrf_token": csrf_token(client, "/users/new")})
    assert resp.status_code == 302
    data = _cookie_data(app, client)
    assert "_flashes" not in data and "张三丰" not in repr(data)
    assert "张三丰" not in client.get_cookie("session").value
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "已创建用户「张三丰」" in page
    # Shown once: the stash is used up and the cookie no longer points at it.
    assert "已创建用户「张三丰」" not in client.get("/users").get_data(as_text=True)
    assert "_flash_ref" not in _cookie_data(app, client)


def test_unread_flash_survives_a_static_file_and_a_json_call(app, client, admin_user, login, csrf_token):
    login(client)
    token = csrf_token(client, "/")
    client.post("/notifications/read", data={"all": "1", "csrf_token": token})
    client.get("/static/css/app.css").close()
    resp = client.post("/notifications/read", data={"all": "1", "csrf_token": token},
                       headers={"Accept": "application/json"})
    assert resp.get_json() == {"marked": 0, "unread": 0}
    assert "没有需要标记的未读通知" in client.get("/notifications").get_data(as_text=True)


def test_admin_sees_and_ends_a_users_sessions(app, client, app_db, admin_user, login, csrf_token):
    bob = people.create_user(app_db, "bob", "Bobpass123", roles=["operator"])
    phone = app.test_client()
    phone.environ_base.update(REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="BobBrowser/1.0")
    login(phone, "bob", "Bobpass123")
    login(client)
    page = client.get(f"/users/{bob.id}/edit").get_data(as_text=True)
    assert "登录会话" in page and "198.51.100.9" in page and "BobBrowser/1.0" in page and "在线" in page
    [(row, state)] = people.list_sessions(app_db, bob.id)
    resp = client.post(f"/users/{bob.id}/sessions/{row.id}/revoke", data={"csrf_token": csrf_token(client, "/")})
    assert resp.status_code == 302
    assert phone.get("/notifications").status_code == 302
    assert "已结束" in client.get(f"/users/{bob.id}/edit").get_data(as_text=True)
    # Another user's session id under bob's URL is not found.
    login(phone, "bob", "Bobpass123")
    [(admin_row, _)] = [item for item in people.list_sessions(app_db, admin_user.id) if item[1] == "online"]
    client.post(f"/users/{bob.id}/sessions/{admin_row.id}/revoke", data={"csrf_token": csrf_token(client, "/")})
    assert client.get("/users").status_code == 200
