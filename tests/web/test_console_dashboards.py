"""数据中心 console pages: overview figures equal the DailyMetric rows, every page renders its charts'
options with links, the drill-down lists exactly the segment (scoped for a non-admin), export, save as
客户查询 and 批量打标签; bad filters are shown, not a 500."""
from __future__ import annotations

import io
import json
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from analytics import rfm, rollup_store, segments, snapshot
from crm.customers.audience import audience_ids
from crm.customers.models import SavedQuery
from crm.people import service as people
from crm.scope import SYSTEM, Viewer
from crm.tags.models import CustomerTag
from tests.analytics.lifecycle_data import NOW, build, make_tag

PASSWORD = "Manager12345"


@pytest.fixture
def world(app_db, admin_user):
    manager = people.create_user(app_db, "mgr", PASSWORD, display_name="经理甲", roles=["manager"]).id
    w = build(app_db, n=90, seed=9, owner_ids=(admin_user.id, manager))
    with app_db.write() as s:
        snapshot.rebuild(s, NOW)  # what the nightly job does: scores and the admin's snapshot
        day = date(2026, 11, 19)
        rollup_store.put(s, day, "gmv_fen", {("company", 0): 123456, ("user", manager): 4500,
                                             ("channel", w.channels[0]): 100000, ("channel", w.channels[1]): 23456})
        rollup_store.put(s, day, "active_friends", {("company", 0): 17, ("user", manager): 3})
        rollup_store.put(s, date(2026, 11, 20), "active_friends", {("company", 0): 11})
    w.manager = manager
    return w


def _options(html: str) -> dict:
    return {m.group(1): json.loads(m.group(2)) for m in
            re.finditer(r'<script type="application/json" id="([^"]+)-option">(.*?)</script>', html, re.S)}


def test_overview_figures_equal_the_rollup_rows(client, login, world):
    login(client)
    html = client.get("/dashboards?start=2026-11-01&end=2026-11-20").get_data(as_text=True)
    assert "¥1,234.56" in html and "GMV" in html
    assert "活跃用户" in html and ">11<" in html  # the last day
    assert "截至 11-20 10:00" in html  # an admin's totals come from the pass (manager's are live, below)
    opts = _options(html)
    bars = opts["chart-channel"]["series"][0]["data"]
    assert [b["value"] for b in bars] == [234.56, 1000.0]  # smallest drawn first: the largest ends on top
    assert all(b["link"].startswith("/dashboards/segment?") and "kind=buyers" in b["link"] for b in bars)
    assert "chart-trend" in opts and "渠道0" in html


def test_bad_filter_is_shown_next_to_its_field(client, login, world):
    login(client)
    resp = client.get("/dashboards?start=2026-13-40")
    assert resp.status_code == 200 and "请输入正确的日期" in resp.get_data(as_text=True)
    assert client.get("/dashboards/segment?kind=rfm&key=nope").status_code == 422


def test_funnel_steps_link_to_exactly_their_customers(client, login, world):
    login(client)
    html = client.get(f"/dashboards/funnel?channel_id={world.channels[1]}").get_data(as_text=True)
    data = _options(html)["chart-funnel"]["series"][0]["data"]
    first = data[1]
    with client.application.extensions["ckb"].services.db.read() as s:
        want = segments.customer_ids(s, segments.Segment(kind="funnel", step="first", channel_id=world.channels[1]),
                                     SYSTEM)
    assert first["value"] == len(want) > 0
    page = client.get(first["link"]).get_data(as_text=True)
    assert f"共 {len(want)} 位客户" in page


def test_cohorts_and_rfm_pages_render(client, login, world):
    login(client)
    html = client.get("/dashboards/cohorts").get_data(as_text=True)
    assert 'data-testid="cohort-table"' in html and "第 0 月" in html
    html = client.get("/dashboards/rfm").get_data(as_text=True)
    pie = _options(html)["chart-rfm-pie"]["series"][0]["data"]
    with client.application.extensions["ckb"].services.db.read() as s:
        summary = {r["label"]: r["customers"] for r in rfm.summary(s, segments.in_scope_scores(SYSTEM))}
    assert {d["name"]: d["value"] for d in pie} == {k: v for k, v in summary.items() if v}
    assert all("kind=rfm" in d["link"] for d in pie)


def test_manager_sees_only_their_customers_and_own_figures(client, login, world):
    login(client, "mgr", PASSWORD)
    html = client.get("/dashboards?start=2026-11-01&end=2026-11-20").get_data(as_text=True)
    assert "¥45.00" in html and "¥1,234.56" not in html
    viewer = Viewer(world.manager, frozenset({"customers.view"}))
    with client.application.extensions["ckb"].services.db.read() as s:
        mine = segments.customer_ids(s, segments.Segment(kind="rfm", key="important_value"), viewer)
        everyone = segments.customer_ids(s, segments.Segment(kind="rfm", key="important_value"), SYSTEM)
    assert len(mine) < len(everyone)
    page = client.get("/dashboards/segment?kind=rfm&key=important_value").get_data(as_text=True)
    assert f"共 {len(mine)} 位客户" in page
    assert client.post("/dashboards/rfm/refresh").status_code in (400, 403)  # no 查看全公司的数据


def test_export_save_and_tag(client, login, csrf_token, world, app_db):
    login(client)
    with app_db.write() as s:
        tag_id = make_tag(s, "重要价值")
    seg = segments.Segment(kind="rfm", key="important_value")
    with app_db.read() as s:
        want = segments.customer_ids(s, seg, SYSTEM)
    resp = client.get("/dashboards/segment/export?kind=rfm&key=important_value")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    assert sorted(r[0] for r in sheet.iter_rows(min_row=2, values_only=True)) == want
    token = csrf_token(client, "/dashboards/rfm")
    resp = client.post("/dashboards/segment/save?kind=rfm&key=important_value",
                       data={"name": "高价值", "csrf_token": token})
    assert resp.status_code == 302
    with app_db.read() as s:
        saved = s.exec(select(SavedQuery)).one()
    assert audience_ids(app_db, {"mode": "conditions", **saved.query}) == want  # a live audience
    client.post("/dashboards/segment/tag?kind=rfm&key=important_value", data={"tag_ids": str(tag_id), "csrf_token": token})
    with app_db.read() as s:
        tagged = sorted(s.exec(select(CustomerTag.customer_id).where(CustomerTag.tag_id == tag_id)))
    assert tagged == want
    resp = client.post("/dashboards/segment/save?kind=buyers&start=2026-11-01&end=2026-11-20",
                       data={"name": "x", "csrf_token": token})
    assert resp.status_code == 302
    with app_db.read() as s:
        assert len(s.exec(select(SavedQuery)).all()) == 1  # a dated set is refused as a dynamic query
