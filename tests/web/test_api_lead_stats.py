"""GET /api/v1/leads/stats answers exactly the figures of the console's 获客统计 page for the same
period; bad dates and reversed or overlong periods are 422 naming the problem; it is documented."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from config.clock import UTC
from crm.leads import stats
from crm.leads.models import Lead, LeadAssignment, LeadChannel, LeadScene
from tests.web.api_helpers import anon_api, api, assert_error, viewer_api  # noqa: F401
from web.api.lead_stats import stats_json


@pytest.fixture
def leads(app_db, clock):
    now = clock.now()
    with app_db.write() as s:
        form = LeadScene(name="官网表单", key="form", scene_type="WEB_FORM")
        baidu = LeadChannel(name="百度推广", channel_type="PAID_SEARCH", code="bd")
        s.add_all([form, baidu])
        s.flush()
        for i, status in enumerate(["NEW", "ASSIGNED", "CONVERTED", "CONVERTED", "PROCESSING"]):
            lead = Lead(scene_id=form.id, channel_id=baidu.id if i % 2 else None, status=status,
                        created_at=now - timedelta(days=i, hours=1),
                        assigned_at=None if status == "NEW" else now - timedelta(days=i))
            s.add(lead)
            s.flush()
            if status != "NEW":
                s.add(LeadAssignment(lead_id=lead.id, scene_id=form.id, to_user_id=1, latency_seconds=60.0 * (i + 1)))
    return now


def test_stats_equal_the_console_figures(api, app_db, leads, client, login, admin_user):
    tz = "Asia/Shanghai"
    start = (leads - timedelta(days=10)).astimezone(UTC).date().isoformat()
    end = (leads + timedelta(days=1)).astimezone(UTC).date().isoformat()
    got = api.ok("GET", f"/api/v1/leads/stats?start={start}&end={end}")
    period = stats.make_period(datetime.fromisoformat(start).date(), datetime.fromisoformat(end).date(), tz)
    with app_db.read() as s:
        expected = stats_json(stats.lead_stats(s, period))
    assert got == __import__("json").loads(__import__("json").dumps(expected))
    assert got["total"] == 5 and got["converted"] == 2 and got["conversion_rate"] == pytest.approx(0.4)
    assert got["latency"]["count"] == 4
    assert {r["name"] for r in got["channels"]} == {"百度推广", stats.NO_CHANNEL}
    login(client)
    page = client.get(f"/leads/stats?start={start}&end={end}").get_data(as_text=True)
    assert "官网表单" in page and f">{got['total']}<" in page.replace(" ", "")


def test_default_period_and_bad_input(api, viewer_api, anon_api, leads):
    default = api.ok("GET", "/api/v1/leads/stats")
    assert len(default["days"]) == 14 and default["total"] == 5
    assert viewer_api.ok("GET", "/api/v1/leads/stats")["total"] == 5
    assert_error(api.get("/api/v1/leads/stats?start=2026-13-01"), 422, "start")
    assert_error(api.get("/api/v1/leads/stats?start=2026-11-20&end=2026-11-01"), 422)
    assert_error(api.get("/api/v1/leads/stats?start=2020-01-01&end=2026-11-01"), 422)
    assert anon_api.get("/api/v1/leads/stats").status_code == 401
    assert "/api/v1/leads/stats" in anon_api.get("/api/v1/openapi.json").get_json()["paths"]
