"""Browser: an admin fails a sign-in, signs in, edits a customer and meets a broken page (its
参考编号 shown, no stack), then finds all three in 登录日志, 操作日志 and 异常日志 (headless
Chromium, no CSP violations)."""
from __future__ import annotations

from pathlib import Path

import pytest

from crm.customers.models import Customer

SHOTS = Path("/tmp/ckb_shots/logs")


@pytest.mark.browser
def test_three_log_pages(page, browser_login, app, app_db, admin_user, monkeypatch):
    from web.console import customers as view

    SHOTS.mkdir(parents=True, exist_ok=True)
    with app_db.write() as s:
        customer = Customer(name="张三", mobile="13900139000")
        s.add(customer)
        s.flush()
        cid = customer.id
    browser_login("admin", "wrong-password-9")
    browser_login()
    page.goto(f"/customers/{cid}/edit")
    page.fill("input[name=name]", "张三丰")
    page.click(".form-actions button[type=submit]")
    page.wait_for_load_state()

    real = view.render_template

    def broken(template, **context):
        if template == "customers/index.html":
            raise RuntimeError("列表模板坏了 13900139000")
        return real(template, **context)

    monkeypatch.setattr(view, "render_template", broken)
    page.goto("/customers")
    reference = page.locator("[data-testid=error-reference]").inner_text()
    assert reference.startswith("E") and "Traceback" not in page.content() and "列表模板坏了" not in page.content()
    page.screenshot(path=str(SHOTS / "error_page.png"), full_page=True)
    monkeypatch.setattr(view, "render_template", real)

    page.goto("/system/logs/logins")
    page.select_option("#flt-result", "bad_password")
    page.click("form.filter-panel button[type=submit]")
    page.wait_for_load_state()
    results = page.locator("[data-testid=login-result]").all_inner_texts()
    assert results == ["密码错误"]
    page.screenshot(path=str(SHOTS / "logins.png"), full_page=True)

    page.goto("/system/logs/operations")
    page.select_option("#flt-table", "customer")
    page.click("form.filter-panel button[type=submit]")
    page.wait_for_load_state()
    changes = page.locator("[data-testid=op-changes]").first.inner_text()
    assert "张三" in changes and "张三丰" in changes and "13900139000" not in page.content()
    page.screenshot(path=str(SHOTS / "operations.png"), full_page=True)

    page.goto("/system/logs/errors")
    page.click(f"text={reference}")
    page.wait_for_load_state()
    page.click("text=查看堆栈")
    page.wait_for_load_state()
    stack = page.locator("[data-testid=error-stack]").inner_text()
    assert "RuntimeError: 列表模板坏了 139****9000" in stack
    page.screenshot(path=str(SHOTS / "error_detail.png"), full_page=True)
