"""Browser: the sidebar's collapsible groups (active group open, active item in view, open/closed
remembered across pages), 功能注册 hiding and renaming reflected in another user's sidebar, and a
内容运营 creating a 朋友圈同步 task through the wizard (headless Chromium, no CSP violations)."""
from __future__ import annotations

import pytest
from sqlmodel import select

from crm.people import service as people
from devices.models import ContentItem, WechatAccount
from rules.models import Strategy

SHOTS = "/tmp/ckb_shots"


def _open(page, key: str) -> bool:
    return page.locator(f"details[data-menu-group='{key}']").evaluate("d => d.open")


@pytest.mark.browser
def test_sidebar_groups_collapse_and_remember(page, browser_login, admin_user):
    browser_login()
    page.goto("/customers")
    assert _open(page, "customers") and not _open(page, "system")
    page.screenshot(path=f"{SHOTS}/menu_sidebar_customers.png")

    page.click("details[data-menu-group='system'] > summary")
    page.click("details[data-menu-group='customers'] > summary")
    assert _open(page, "system") and not _open(page, "customers")
    page.goto("/tags")  # 系统建模: its group opens; the choices made above are remembered
    assert _open(page, "modeling") and _open(page, "system") and not _open(page, "customers")

    page.goto("/system/menu")  # the last group: the active item is scrolled into the menu's view
    assert _open(page, "system")
    in_view = page.evaluate("""() => {
        const menu = document.querySelector('[data-menu]'), item = menu.querySelector('.menu-item.active');
        const m = menu.getBoundingClientRect(), r = item.getBoundingClientRect();
        return r.top >= m.top && r.bottom <= m.bottom && item.dataset.endpoint; }""")
    assert in_view == "menu_admin.index"
    page.screenshot(path=f"{SHOTS}/menu_admin.png")


@pytest.mark.browser
def test_menu_changes_reach_another_users_sidebar(page, browser, live_server, browser_login, app_db, admin_user):
    people.create_user(app_db, "op", "Operator123", roles=["operator"])
    browser_login()
    page.goto("/system/menu")
    page.locator("[data-testid='item-actions-groups.index'] button:has-text('隐藏')").click()
    page.wait_for_load_state()
    page.locator("[data-testid='rename-companies.index'] input[name=label]").fill("合作公司")
    page.locator("[data-testid='rename-companies.index'] button").click()
    page.wait_for_load_state()
    page.locator("[data-testid='group-actions-matrix'] button:has-text('↑')").click()
    page.wait_for_load_state()

    other = browser.new_context(base_url=live_server.url).new_page()
    other.goto("/login")
    other.fill("#f-username", "op")
    other.fill("#f-password", "Operator123")
    other.click("button[type=submit]")
    other.wait_for_load_state()
    other.goto("/customers")
    nav = other.locator("[data-menu]")
    assert nav.locator("[data-endpoint='groups.index']").count() == 0
    assert nav.locator("[data-endpoint='companies.index']").inner_text().strip() == "合作公司"
    keys = other.eval_on_selector_all("details[data-menu-group]", "ds => ds.map(d => d.dataset.menuGroup)")
    assert keys.index("matrix") < keys.index("automation") and keys.index("matrix") < keys.index("crmlogs")
    other.goto("/groups")  # hidden from the menu, still governed by its permission only
    assert other.locator("h1").count() == 1 and "无权访问" not in other.content()
    other.context.close()


@pytest.mark.browser
def test_content_ops_create_a_moment_sync_task(page, browser_login, app_db, admin_user):
    with app_db.write() as s:
        s.add(WechatAccount(wxid="wx_n", nickname="内容号一"))
        s.add_all([ContentItem(title="早安问候", kind="text", text="早安"), ContentItem(title="客户案例", kind="text", text="案例")])
    people.create_user(app_db, "xiaonei", "Content123", roles=["content_ops"])
    browser_login("xiaonei", "Content123")
    page.goto("/workbench")
    features = page.locator("[data-feature]").evaluate_all("cs => cs.map(c => c.dataset.feature)")
    assert sorted(features) == ["auto_like", "moment_sync"]
    page.click("[data-feature=moment_sync]")
    page.click("text=新建任务")
    page.fill("#f-name", "每日朋友圈 SOP")
    page.select_option("select[name=account_ids]", label="内容号一（健康分 100）")
    page.select_option("select[name=content_ids]", label=["早安问候（text）", "客户案例（text）"])
    page.click("[data-wizard-next]")
    page.click("[data-wizard-next]")
    page.click("[data-wizard-save]")
    page.wait_for_selector("text=已创建")
    page.screenshot(path=f"{SHOTS}/menu_content_ops_moment.png", full_page=True)
    with app_db.read() as s:
        task = s.exec(select(Strategy).where(Strategy.template_key == "moment_sync")).one()
    assert (task.name, task.enabled) == ("每日朋友圈 SOP", False)
    # The sidebar shows 工作台 and 内容库, nothing of 营销工具 (strategies, processors) or 场景获客.
    endpoints = page.eval_on_selector_all("[data-menu] [data-endpoint]", "as => as.map(a => a.dataset.endpoint)")
    assert "workbench.index" in endpoints and "content.index" in endpoints
    assert not {"strategies.index", "processors.index", "lead_home.index"} & set(endpoints)
