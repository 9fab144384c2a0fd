"""The console in headless Chromium: sign in, the sidebar, the notification badge, creating a
user with a role, and that user's restricted menu. Screenshots land in /tmp/ckb_shots/."""
from __future__ import annotations

from pathlib import Path

import pytest

from crm.people import service as people

SHOTS = Path("/tmp/ckb_shots")
pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sidebar_labels(page) -> list[str]:
    # Every item of the menu, also those inside a collapsed group.
    return [t.strip() for t in page.locator(".sidebar .menu-item span:first-of-type").all_text_contents()]


def test_login_sidebar_badge_and_restricted_menu(page, app_db, admin_user, browser_login):
    people.notify(app_db, admin_user.id, "有 3 条死信待处理", "「新客欢迎」策略的发送短信步骤失败", "/notifications", "engine")
    page.goto("/login")
    shot(page, "01_login")
    page.fill("#f-username", "admin")
    page.fill("#f-password", "wrong-pass1")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text(".alert-error")
    shot(page, "02_login_error")

    browser_login()
    assert page.url.endswith("/")
    labels = sidebar_labels(page)
    assert "用户管理" in labels and "角色管理" in labels and "站内通知" in labels
    assert page.inner_text("[data-testid=unread-badge]") == "1"
    shot(page, "03_dashboard")

    page.click(".notif-bell")
    assert "有 3 条死信待处理" in page.inner_text(".notif-list")
    shot(page, "04_notifications")
    page.click("text=全部标为已读")
    assert page.locator("[data-testid=unread-badge]").count() == 0

    page.goto("/users/new")
    page.fill("#f-username", "xiaoli")
    page.fill("#f-display_name", "小李")
    page.fill("#f-mobile", "13800138000")
    page.fill("#f-password", "Xiaoli123")
    page.check("input[name=roles][value=viewer]")
    page.uncheck("input[name=must_change_password]")
    shot(page, "05_user_form")
    page.click("button:has-text('创建用户')")
    assert "已创建用户「小李」" in page.inner_text(".flashes")
    assert "小李" in page.inner_text("table")
    shot(page, "06_users")

    page.click("summary:has-text('系统管理员')")
    page.click("button:has-text('退出登录')")
    assert page.url.endswith("/login")
    browser_login("xiaoli", "Xiaoli123")
    labels = sidebar_labels(page)
    assert "用户管理" not in labels and "角色管理" not in labels and "站内通知" in labels
    shot(page, "07_viewer_menu")
    page.goto("/roles")
    assert "无权访问" in page.inner_text(".error-card h1")
    shot(page, "08_forbidden")


def test_role_form_preview_and_confirm_dialog(page, app_db, admin_user, browser_login):
    browser_login()
    page.goto("/roles/new")
    page.fill("#f-name", "门店助理")
    page.fill("#f-code", "shop")
    item = page.locator(".menu-preview-item", has_text="策略任务")
    assert "hidden-item" in item.get_attribute("class")
    page.check("input[name=permissions][value='tasks.view']")
    assert "hidden-item" not in item.get_attribute("class")
    group = page.locator("[data-perm-group]", has_text="事件历史")
    group.locator("[data-check-all]").check()
    assert group.locator("input[value='history.view']").is_checked()
    shot(page, "09_role_form")
    page.click("button:has-text('创建角色')")
    assert "已创建角色「门店助理」" in page.inner_text(".flashes")
    shot(page, "10_roles")

    # Delete asks in the styled confirm dialog first; 取消 keeps the role.
    row = page.locator("tr", has_text="门店助理")
    row.locator("button:has-text('删除')").click()
    assert page.locator("#confirm-dialog").is_visible()
    shot(page, "11_confirm")
    page.click("[data-confirm-cancel]")
    assert page.locator("tr", has_text="门店助理").count() == 1
    row.locator("button:has-text('删除')").click()
    page.click("[data-confirm-ok]")
    page.wait_for_selector(".flashes")
    assert "角色已删除" in page.inner_text(".flashes")


def test_token_created_once_and_reset_modal(page, app_db, admin_user, browser_login):
    people.create_user(app_db, "bob", "Bobpass123", display_name="小王", roles=["operator"])
    browser_login()
    page.goto("/account/tokens")
    page.fill("#f-name", "ERP 订单同步")
    page.click("button:has-text('创建令牌')")
    token = page.inner_text("[data-testid=new-token]")
    assert token.startswith("ckb_")
    shot(page, "12_tokens")
    page.goto("/users")
    page.locator("tr", has_text="小王").locator("[data-modal-open]").click()
    dialog = page.locator("dialog[open]")
    assert dialog.is_visible()
    shot(page, "13_reset_modal")
    dialog.locator("input[type=password]").fill("Temp12345")
    dialog.locator("button[type=submit]").click()
    assert "已重置「小王」的密码" in page.inner_text(".flashes")
