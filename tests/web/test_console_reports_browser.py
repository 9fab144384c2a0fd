"""Browser story: the admin opens the 每日数据报表 of a team for a seeded day, sees the KPI cards and the
ECharts trend drawn, clicks a point of the trend and a KPI card and lands on the list of people behind
that number (same team, same day), which matches the count (headless Chromium, no CSP violations)."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.analytics.month_seed import Oracle, seeded_month

SHOTS = Path("/tmp/ckb_shots")


@pytest.mark.browser
def test_daily_report_chart_and_click_through(page, browser_login, app_db, admin_user):
    seed = seeded_month(app_db)
    team = seed.depts["top"]
    oracle = Oracle(seed)
    day = date(2026, 10, 17)
    browser_login()
    page.goto(f"/reports/daily?scope=department:{team}&day={day.isoformat()}")
    page.wait_for_selector("#trend-chart[data-chart-ready='1']")
    page.wait_for_selector("#ranking-chart[data-chart-ready='1']")
    new = oracle.value("new_friends", "department", team, day)
    assert page.locator("[data-testid=kpi-new_friends] .stat-value").inner_text() == f"{new:,}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reports_daily.png"), full_page=True)

    # A click on the last point of the 新增好友 line (the report's day) opens that day's list.
    point = page.evaluate("""() => {
        const el = document.getElementById('trend-chart');
        const chart = window.echarts.getInstanceByDom(el);
        const data = chart.getOption().series[0].data;
        const last = data.length - 1;
        const [x, y] = chart.convertToPixel({seriesIndex: 0}, [last, data[last].value]);
        const box = el.getBoundingClientRect();
        return {x: box.left + x, y: box.top + y};
    }""")
    page.mouse.click(point["x"], point["y"])
    page.wait_for_url("**/reports/drill?*")
    assert "metric=new_friends" in page.url and f"at={day.isoformat()}" in page.url
    assert f"department%3A{team}" in page.url or f"department:{team}" in page.url
    assert page.locator("[data-testid=drill-table] tbody tr").count() == new

    page.go_back()
    page.wait_for_selector("[data-testid=kpi-consulted]")
    page.click("[data-testid=kpi-consulted]")
    page.wait_for_selector("[data-testid=drill-table], .empty-state")
    consulted = oracle.value("consulted", "department", team, day)
    assert page.locator("[data-testid=drill-table] tbody tr").count() == consulted
    assert "咨询人数明细" in page.title()
    page.screenshot(path=str(SHOTS / "reports_drill.png"), full_page=True)


@pytest.mark.browser
def test_weekly_review_and_targets_in_the_browser(page, browser_login, app_db, admin_user):
    seed = seeded_month(app_db)
    team = seed.depts["top"]
    browser_login()
    page.goto(f"/reports/targets?scope=department:{team}&period=week")
    page.fill("#f-new_friends", "30")
    page.fill("#f-gmv_fen", "5000")
    page.click("[data-testid=targets-form] button[type=submit]")
    page.wait_for_selector("[data-testid=targets-saved]")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reports_targets.png"), full_page=True)
    page.goto(f"/reports/weekly?scope=department:{team}&week=2026-W42")
    page.wait_for_selector("#trend-chart[data-chart-ready='1']")
    assert "目标 30" in page.locator("[data-testid=kpi-new_friends]").inner_text()
    page.click("[data-testid=review-edit]")
    assert "本周目标：新增好友数 30" in page.input_value("textarea[name=goals]")
    page.fill("textarea[name=summary]", "朋友圈发布不足，下周每天 5 条")
    page.click("[data-testid=review-form] button[type=submit]")
    page.wait_for_selector("[data-testid=review-saved]")
    assert "朋友圈发布不足" in page.locator("[data-testid=review]").inner_text()
    assert page.locator("[data-testid=review-list] tbody tr").count() == 1
    page.screenshot(path=str(SHOTS / "reports_weekly.png"), full_page=True)
    page.goto(f"/reports/monthly?scope=department:{team}&month=2026-10")
    page.wait_for_selector("#trend-chart[data-chart-ready='1']")
    page.screenshot(path=str(SHOTS / "reports_monthly.png"), full_page=True)
