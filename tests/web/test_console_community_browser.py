"""Browser story (headless Chromium, no CSP violations): an operator opens 社群列表, filters by
activity, opens a group and sees its 30-day trend drawn; then on 群活监控 creates a 死群 rule and
sees the alert. Screenshots go to /tmp/ckb_shots/community_*.png."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from community.activity.alerts import evaluate
from community.activity.rollup import recompute_day, roll_up
from community.activity.days import day_of
from tests.community.support import make_account, make_group, say

SHOTS = Path("/tmp/ckb_shots")
TZ = "Asia/Shanghai"


@pytest.mark.browser
def test_group_list_detail_and_alerts(page, browser_login, app, app_db, admin_user, clock):
    now = clock.now()
    with app_db.write() as s:
        acc = make_account(s, "wx_ops", "运营小美")
        busy = make_group(s, acc, "busy@chatroom", [f"m{i}" for i in range(12)], now - timedelta(days=40),
                          name="宝妈交流群", owner_wxid="wx_ops")
        make_group(s, acc, "dead@chatroom", ["m1", "m2", "m3"], now - timedelta(days=40), name="沉默的老群")
        for day in range(14):
            for n in range(day % 5 + 1):
                say(s, acc, "busy@chatroom", busy, f"m{n}", now - timedelta(days=day, minutes=n + 1))
    with app_db.write() as s:
        roll_up(s, now, TZ)
        for day in range(14):
            recompute_day(s, day_of(now - timedelta(days=day), TZ), TZ, now)
    browser_login()
    page.goto("/community/groups")
    page.wait_for_selector("[data-testid=group-table]")
    assert page.locator("[data-testid=group-row]").count() == 2
    assert page.locator("[data-testid=group-row]").first.inner_text().startswith("宝妈交流群")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "community_groups.png"), full_page=True)
    page.fill("#flt-min", "1")
    page.click("[data-testid=group-filters] button[type=submit]")
    page.wait_for_url("**min_messages=1**")
    assert page.locator("[data-testid=group-row]").count() == 1
    page.click("text=宝妈交流群")
    page.wait_for_selector("#group-trend canvas")
    page.screenshot(path=str(SHOTS / "community_group.png"), full_page=True)

    page.goto("/community/alerts")
    page.click("text=新建规则")
    page.fill("#f-name", "死群预警")
    page.select_option("#f-kind", "silent")
    page.fill("#f-days", "7")
    page.click("form.card-form button[type=submit]")
    page.wait_for_url("**/community/alerts")
    with app_db.write() as s:
        evaluate(s, clock.now(), TZ)
    page.reload()
    assert page.locator("[data-testid=alert-row]").count() == 1
    assert "沉默的老群" in page.locator("[data-testid=alert-row]").first.inner_text()
    page.screenshot(path=str(SHOTS / "community_alerts.png"), full_page=True)
