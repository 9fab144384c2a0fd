"""Browser stories (headless Chromium, no CSP violations): the 看板 draws its charts; a click on the
funnel's 首购 step opens exactly the customers behind it; an RFM segment's list is saved as a 客户查询
(audience) and opens in 客户档案. Screenshots go to /tmp/ckb_shots/dashboards/."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from analytics import rfm, rollup_store, segments
from crm.customers.models import SavedQuery
from crm.scope import SYSTEM
from tests.analytics.lifecycle_data import NOW, build

SHOTS = Path("/tmp/ckb_shots/dashboards")


@pytest.fixture
def world(app_db, admin_user):
    w = build(app_db, n=90, seed=4, owner_ids=(admin_user.id,))
    with app_db.write() as s:
        rfm.refresh_scores(s, NOW)
        for i in range(10):
            day = date(2026, 11, 10 + i)
            rollup_store.put(s, day, "gmv_fen", {("company", 0): 10000 * (i + 1), ("channel", w.channels[0]): 6000 * (i + 1),
                                                 ("channel", w.channels[1]): 4000 * (i + 1)})
            rollup_store.put(s, day, "new_friends", {("company", 0): 3 + i})
            rollup_store.put(s, day, "active_friends", {("company", 0): 5 + i % 3})
    return w


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.browser
def test_overview_draws_its_charts(page, browser_login, world):
    browser_login()
    page.goto("/dashboards?start=2026-11-06&end=2026-11-20")
    for chart in ("chart-trend", "chart-channel"):
        page.wait_for_selector(f"#{chart}[data-chart-ready='1'] canvas")
    assert page.locator("[data-testid=overview-cards]").inner_text().count("¥5,500.00") == 1
    _shot(page, "overview")


@pytest.mark.browser
def test_funnel_step_click_opens_its_customers(page, browser_login, world, app_db):
    with app_db.read() as s:
        want = segments.customer_ids(s, segments.Segment(kind="funnel", step="first"), SYSTEM)
    browser_login()
    page.goto("/dashboards/funnel")
    chart = page.wait_for_selector("#chart-funnel[data-chart-ready='1'] canvas")
    _shot(page, "funnel")
    box = chart.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the middle step: 首购
    page.wait_for_url("**/dashboards/segment?*step=first*")
    assert f"共 {len(want)} 位客户" in page.inner_text(".page-head, header, body")
    assert page.locator("[data-testid=segment-list] tbody tr").count() == min(len(want), 50)
    _shot(page, "funnel_first_customers")


@pytest.mark.browser
def test_rfm_segment_saved_as_audience(page, browser_login, world, app_db):
    browser_login()
    page.goto("/dashboards/rfm")
    page.wait_for_selector("#chart-rfm-pie[data-chart-ready='1'] canvas")
    _shot(page, "rfm")
    page.click("[data-testid=segment-important_value]")
    page.wait_for_selector("[data-testid=segment-list]")
    page.fill("#sv-name", "重要价值客户受众")
    page.click("[data-testid=segment-save] button[type=submit]")
    page.wait_for_url("**/customers?saved=*")
    _shot(page, "saved_audience")
    with app_db.read() as s:
        saved = s.exec(select(SavedQuery)).one()
        want = segments.customer_ids(s, segments.Segment(kind="rfm", key="important_value"), SYSTEM)
    assert saved.name == "重要价值客户受众" and saved.query["rows"][0]["field"] == "rfm_segment"
    assert len(want) > 0
