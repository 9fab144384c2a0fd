"""场景获客 lead pages in headless Chromium: filter the list, open a lead the pipeline processed,
move its status on and add a note; 获客统计 draws its charts. Screenshots go to /tmp/ckb_shots/."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from crm.leads.models import Lead
from tests.web.test_console_leads import _seed_stats, world  # noqa: F401 - fixture

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/ckb_shots")


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_filter_open_change_status_and_note(page, admin_user, browser_login, world):
    browser_login()
    page.goto("/leads")
    assert page.locator("[data-testid=lead-row]").count() == 3
    page.click("[data-testid=tag-filter] summary")
    page.check("[data-testid=tag-filter] input[type=checkbox] >> nth=0")
    _shot(page, "leads_list_tag_filter.png")
    page.click("[data-testid=lead-filters] button[type=submit]")
    page.wait_for_url("**/leads?*tags=*")
    assert page.locator("[data-testid=lead-row]").count() == 1
    page.goto("/leads")
    _shot(page, "leads_list.png")
    page.select_option("#flt-status", "ASSIGNED")
    page.click("[data-testid=lead-filters] button[type=submit]")
    page.wait_for_url("**/leads?*status=ASSIGNED*")
    rows = page.locator("[data-testid=lead-row]")
    assert rows.count() == 1 and "张三" in rows.first.inner_text()
    _shot(page, "leads_list_filtered.png")
    rows.first.locator(f"a[href=\"/leads/{world['lead']}\"]").click()
    page.wait_for_url(f"**/leads/{world['lead']}")
    page.get_by_text("原始数据").click()
    assert "请尽快给我报价" in page.locator("[data-testid=lead-raw]").inner_text()
    assert "高意向" in page.locator("[data-testid=lead-tags]").inner_text()
    assert "接收" in page.locator("[data-testid=lead-log]").inner_text()
    page.select_option("[data-testid=status-form] select", "PROCESSING")
    page.click("[data-testid=status-form] button[type=submit]")
    page.wait_for_selector(".alert:has-text('状态已改为「跟进中」')")
    page.fill("#f-note", "已电话联系，客户下周到店")
    page.click("[data-testid=note-form] button[type=submit]")
    page.wait_for_selector(".alert:has-text('备注已添加')")
    assert "客户下周到店" in page.locator("[data-testid=lead-notes]").inner_text()
    assert "状态变更" in page.locator("[data-testid=lead-log]").inner_text()
    _shot(page, "leads_list_detail.png")


def test_stats_page_draws_charts(page, app, admin_user, browser_login, app_db):
    now = app.extensions["ckb"].services.now()
    _seed_stats(app_db, now)
    with app_db.write() as s:
        from crm.leads.models import LeadScene

        form = LeadScene(name="官网表单", key="webform", scene_type="WEB_FORM")
        s.add(form)
        s.flush()
        s.add_all([Lead(scene_id=form.id, status="ASSIGNED", created_at=now - timedelta(days=d, hours=h))
                   for d in range(0, 12, 2) for h in range(d % 3 + 1)])
    browser_login()
    page.goto("/leads/stats")
    for chart in ("chart-daily", "chart-channels", "chart-funnel"):  # ECharts drew each on a canvas
        page.wait_for_selector(f"#{chart}[data-chart-ready='1']")
        assert page.locator(f"#{chart} canvas").first.is_visible()
    series = page.evaluate("() => echarts.getInstanceByDom(document.getElementById('chart-daily')).getOption().series")
    assert [s["name"] for s in series] == ["官网表单", "400热线"]  # the busiest scene first
    assert sum(1 for d in series[0]["data"] if d["value"]) == 6  # 官网表单's leads fell on six days
    _shot(page, "leads_list_stats.png")
