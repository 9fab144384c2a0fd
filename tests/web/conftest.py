"""Web fixtures: the Flask app on the test database, its client, an admin account, a login
helper, and for browser tests a live server plus a Playwright Chromium page.

Browser tests are marked `@pytest.mark.browser`; they use the `page` fixture, whose base URL is
the live server (`page.goto("/users")`). Every page fails its test when the browser reports a
Content-Security-Policy violation (an inline script or style slipped into a template).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from crm.people import service as people
from tests.support.live_server import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FAILURE_SHOTS = Path("/tmp/ckb_shots/failures")
ADMIN_PASSWORD = "Admin12345"
_META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@pytest.fixture
def app(settings, clock):
    from web import create_app

    app = create_app(settings, clock=clock)
    app.config.update(TESTING=True)
    yield app
    app.extensions["ckb"].services.db.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def app_db(app):
    """The app's own Database (same data as the `db` fixture, one connection pool fewer)."""
    return app.extensions["ckb"].services.db


@pytest.fixture
def admin_user(app_db):
    """admin / Admin12345, an administrator with every permission; built-in roles exist too."""
    people.ensure_builtin_roles(app_db)
    return people.create_user(app_db, "admin", ADMIN_PASSWORD, display_name="系统管理员", is_admin=True)


def get_csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's <meta name="csrf-token">.
    From /login an anonymous client gets the login page and a signed-in one its landing page."""
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = _META_CSRF.search(html)
    assert match, f"no csrf-token meta tag on {path}"
    return match.group(1)


@pytest.fixture
def csrf_token():
    """csrf_token(client, path="/login") → the token to post as `csrf_token` or X-CSRFToken."""
    return get_csrf_token


@pytest.fixture
def login():
    """login(client, username="admin", password="Admin12345") → the POST /login response
    (a 302 on success); the client then carries the session cookie."""

    def do_login(client, username: str = "admin", password: str = ADMIN_PASSWORD):
        token = get_csrf_token(client, "/login")
        return client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token})

    return do_login


@pytest.fixture
def live_server(app):
    server = LiveServer(app).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _playwright():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: run tests/support/ensure_system_packages.sh")
    from playwright.sync_api import sync_playwright

    manager = sync_playwright().start()
    yield manager
    manager.stop()


@pytest.fixture(scope="session")
def browser(_playwright):
    browser = _playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context per test, on the live server; a screenshot on failure."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    csp_errors: list[str] = []
    page.on("console", lambda msg: csp_errors.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    yield page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        FAILURE_SHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
        try:
            page.screenshot(path=str(FAILURE_SHOTS / f"{name}.png"), full_page=True)
        except Exception as exc:  # the page may already be gone; the test failure matters more
            print(f"screenshot failed: {exc}")
    context.close()
    assert not csp_errors, "Content-Security-Policy violations:\n" + "\n".join(csp_errors)


@pytest.fixture
def browser_login(page):
    """browser_login(username="admin", password="Admin12345"): signs `page` in via /login."""

    def do_login(username: str = "admin", password: str = ADMIN_PASSWORD):
        page.goto("/login")
        page.fill("#f-username", username)
        page.fill("#f-password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return do_login
