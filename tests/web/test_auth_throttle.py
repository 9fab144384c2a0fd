"""Login throttling through the console's /login (the review's spray and lock-out attacks):
refusals are 429 with Retry-After, the same for unknown and existing usernames, and a stranger
hammering the admin account does not keep the admin out."""
from __future__ import annotations

from tests.web.conftest import ADMIN_PASSWORD, get_csrf_token


def _browser(app, ip: str):
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = ip
    return browser, get_csrf_token(browser)


def _try(browser, token, username, password="Wrong12345"):
    return browser.post("/login", data={"username": username, "password": password, "csrf_token": token})


def test_password_spray_from_one_address_gets_429(app, admin_user, settings):
    browser, token = _browser(app, "203.0.113.7")
    statuses = [_try(browser, token, f"user{i % 150}").status_code for i in range(60)]
    limit = settings.login_ip_max_failures
    assert statuses[:limit] == [400] * limit and set(statuses[limit:]) == {429}
    resp = _try(browser, token, "admin", ADMIN_PASSWORD)
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0


def test_admin_signs_in_from_elsewhere_while_a_stranger_hammers(app, admin_user):
    stranger, stranger_token = _browser(app, "203.0.113.66")
    refused = [_try(stranger, stranger_token, "admin").status_code for _ in range(30)]
    assert refused.count(429) == 25
    office, token = _browser(app, "198.51.100.20")
    resp = _try(office, token, "admin", ADMIN_PASSWORD)
    assert resp.status_code == 302
    assert office.get("/users").status_code == 200


def test_refusals_do_not_reveal_which_usernames_exist(app, admin_user):
    answers = {}
    for username in ("admin", "nobody-here"):
        browser, token = _browser(app, f"203.0.113.{len(username)}")
        wrong = _try(browser, token, username)
        for _ in range(10):
            locked = _try(browser, token, username)
        answers[username] = (wrong.status_code, _message(wrong), locked.status_code, _message(locked),
                             locked.headers.get("Retry-After"))
    assert answers["admin"] == answers["nobody-here"]
    assert answers["admin"][:4] == (400, "用户名或密码错误", 429, "尝试过于频繁，请稍后再试")


def _message(resp) -> str:
    text = resp.get_data(as_text=True)
    for message in ("用户名或密码错误", "尝试过于频繁，请稍后再试", "该账号已被停用"):
        if message in text:
            return message
    return text


def test_behind_a_trusted_proxy_the_client_address_is_throttled(settings, clock, admin_user):
    """admin_user is created in the shared test database; this second app reads it too."""
    from web import create_app

    app = create_app(settings.model_copy(update={"trusted_proxy_hops": 1}), clock=clock)
    app.config.update(TESTING=True)
    try:
        attacker, token = _browser(app, "127.0.0.1")
        attacker.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.5"
        assert [_try(attacker, token, "admin").status_code for _ in range(6)][-1] == 429
        colleague, token = _browser(app, "127.0.0.1")
        colleague.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.8"
        assert _try(colleague, token, "admin", ADMIN_PASSWORD).status_code == 302
    finally:
        app.extensions["ckb"].services.db.dispose()


def test_unreachable_redis_refuses_logins_with_503_not_500(app, admin_user):
    import socket

    import redis

    from config.rate_limit import RateLimiter

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    app.extensions["ckb_rate_limiter"] = RateLimiter(client)
    browser, token = _browser(app, "198.51.100.3")
    resp = _try(browser, token, "admin", ADMIN_PASSWORD)
    assert resp.status_code == 503 and "登录服务暂时不可用" in resp.get_data(as_text=True)
    client.close()
