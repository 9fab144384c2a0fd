"""Browser story: a newcomer signs in and, from 设备管理, sees the phones (one online, the offline
one highlighted), opens an account in 微信号管理 with its 健康分 chart, its friends and groups,
and the content form hides the fields a text item does not use (headless Chromium, no CSP
violations). The fleet is seeded as database rows (tests/devices/console/seed.py), not run by the
simulator: this story is about what the console shows."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.devices.console.fixtures import device_permissions  # noqa: F401 - fixture
from tests.devices.console.seed import seed_fleet

SHOTS = Path("/tmp/ckb_shots")


@pytest.mark.browser
def test_newcomer_sees_devices_accounts_friends_and_groups(page, browser_login, app_db, clock, admin_user,
                                                           device_permissions):  # noqa: F811
    with app_db.write() as s:
        world = seed_fleet(s, clock.now())
    browser_login()
    page.goto("/devices")
    table = page.locator("[data-testid=device-table]")
    assert table.locator("tr.dv-offline").inner_text().startswith("备用二号机")
    assert "在线" in table.locator(f"tr[data-id='{world['online']}']").inner_text()
    page.click("text=运营一号机")
    page.wait_for_selector("text=设备信息")
    page.click(f"a[href='/accounts/{world['a1']}']")
    page.wait_for_selector("#health-chart[data-chart-ready='1']")  # ECharts drew the 健康分 line
    assert page.locator("#health-chart canvas").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "account_health_chart.png"), full_page=True)
    assert page.locator("text=张总-上海").count() == 1
    assert page.locator("text=存客宝体验群").count() == 1
    page.click("text=存客宝体验群")
    page.wait_for_selector("text=入群时间")
    assert page.locator("td", has_text="李四").count() == 1
    page.goto("/accounts")
    assert page.locator(f"[data-testid=account-{world['a2']}]").inner_text() == "阿杰"
    page.click("a.tab:has-text('好友')")
    page.select_option("select[name=tag]", "意向客户")
    page.wait_for_url("**tag=*")
    assert page.locator("tbody tr").count() == 2
    page.goto("/content/new")
    assert page.locator("[data-kinds='miniprogram']").is_hidden()
    page.select_option("select[name=kind]", "miniprogram")
    assert page.locator("[data-kinds='miniprogram']").is_visible()
