"""首页 = 工作台 in headless Chromium: a 业务员 sees only their panels and numbers and a number opens
the list behind it; an admin picks panels, reorders them with ↑/↓ and by dragging, saves, and
finds the order again after a reload; 运行监控 shows the engine's day. Screenshots go to
/tmp/ckb_shots/ (home_sales.png, home_picker.png, home_admin.png, monitor.png)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.analytics import panel_world as world

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/ckb_shots")
SALES_PANELS = ["my_info", "today_tasks", "customer_moves", "my_targets", "followup_ranking", "tag_top"]


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _panels(page) -> list[str]:
    return page.eval_on_selector_all("[data-testid=home-panels] > section", "els => els.map(e => e.dataset.panel)")


@pytest.fixture
def ids(app_db, admin_user):
    return world.seed(app_db)


def test_salesperson_home_shows_their_panels_and_a_number_opens_its_list(page, browser_login, ids):
    browser_login("sales_a", world.PASSWORD)
    page.goto("/")
    assert _panels(page) == SALES_PANELS
    page.wait_for_selector("#chart-tag_top[data-chart-ready='1']")  # 标签 top10 drawn by ECharts
    assert page.locator("#chart-tag_top canvas").count() == 1
    text = page.inner_text("[data-testid=home-panels]")
    assert "业务员甲" in text and "回访甲今日客户" in text and "我排第 2 / 2 名" in text
    assert "业务员乙" not in text and "策略运行" not in text and "运行监控" not in page.inner_text("nav")
    _shot(page, "home_sales.png")
    page.click("[data-testid=panel-customer_moves] a.stat-card:has-text('新增客户')")
    page.wait_for_url("**/customers?adv=*")
    body = page.inner_text("main")
    assert "甲今日客户" in body and "甲昨日客户" not in body


def test_admin_picks_reorders_and_keeps_their_panels(page, browser_login, ids):
    browser_login()
    page.goto("/")
    assert _panels(page) == ["my_info", "today_tasks", "customer_moves", "my_targets", "followup_ranking", "tag_top",
                             "device_health", "engine_runs"]
    page.click("[data-testid=open-picker]")
    picker = page.locator("[data-testid=panel-picker-list]")
    picker.wait_for()
    for key in ("my_targets", "followup_ranking", "customer_moves"):
        picker.locator(f"li[data-key={key}] input[type=checkbox]").uncheck()
    picker.locator("li[data-key=engine_runs] button[data-move=up]").click()  # above device_health
    picker.locator("li[data-key=tag_top] button[data-move=up]").click()
    picker.locator("li[data-key=tag_top] button[data-move=up]").click()
    picker.locator("li[data-key=tag_top] button[data-move=up]").click()
    picker.locator("li[data-key=tag_top] button[data-move=up]").click()  # above today_tasks
    picker.locator("li[data-key=device_health]").drag_to(picker.locator("li[data-key=my_info]"))  # first
    order = picker.locator("li").evaluate_all("els => els.map(e => e.dataset.key)")
    assert order[:4] == ["device_health", "my_info", "tag_top", "today_tasks"], order
    _shot(page, "home_picker.png")
    page.click("[data-testid=picker-save]")
    page.wait_for_selector(".alert:has-text('工作台已保存')")
    expected = ["device_health", "my_info", "tag_top", "today_tasks", "engine_runs"]
    assert _panels(page) == expected
    page.reload()
    assert _panels(page) == expected and "个性化工作台" in page.inner_text(".page-subtitle")
    page.wait_for_selector("#chart-tag_top[data-chart-ready='1']")
    _shot(page, "home_admin.png")
    page.click("[data-testid=open-picker]")
    page.click("[data-testid=picker-reset]")
    page.click("#confirm-dialog [data-confirm-ok]")
    page.wait_for_selector(".alert:has-text('已恢复默认工作台')")
    assert len(_panels(page)) == 8


def test_monitor_page_shows_the_engines_day(page, browser_login, ids):
    browser_login()
    page.goto("/monitor")
    assert "今日接收事件" in page.inner_text("main") and "最新事件" in page.inner_text("main")
    assert page.locator("nav a[href='/monitor']").count() == 1
    _shot(page, "monitor.png")
    page.click("nav a[href='/']")
    page.wait_for_selector("[data-testid=panel-engine_runs]")
    page.click("[data-testid=panel-engine_runs] a:has-text('打开运行监控')")
    page.wait_for_url("**/monitor")


def test_admin_sets_the_salespersons_default_workbench(page, browser_login, ids, app_db):
    from sqlmodel import select

    from crm.people.models import Role

    with app_db.read() as s:
        sales_role = s.exec(select(Role).where(Role.code == "sales")).one().id
    browser_login()
    page.goto("/")
    page.click("[data-testid=defaults-link]")
    page.click(f"[data-testid=edit-default-{sales_role}]")
    picker = page.locator("[data-testid=panel-picker-list]")
    for key in ("my_info", "customer_moves", "my_targets", "followup_ranking", "tag_top", "device_health", "engine_runs"):
        picker.locator(f"li[data-key={key}] input[type=checkbox]").uncheck()
    picker.locator("li[data-key=tag_top] input[type=checkbox]").check()
    for _ in range(5):
        picker.locator("li[data-key=tag_top] button[data-move=up]").click()
    page.click("[data-testid=default-save]")
    page.wait_for_selector(".alert:has-text('默认工作台已保存')")
    assert page.inner_text(f"[data-testid=role-default-{sales_role}]").split() == ["标签", "top10", "今日待办"]
    _shot(page, "home_defaults.png")
    page.context.clear_cookies()
    browser_login("sales_a", world.PASSWORD)
    page.goto("/")
    assert _panels(page) == ["tag_top", "today_tasks"]
