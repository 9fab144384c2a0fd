"""GET /api/v1/reports/daily|weekly|monthly: the seeded month's figures equal the oracle, scoped per
caller (a 业务员 their own numbers, a manager their departments'), bad parameters are 400/422 in the
one error envelope, and the routes are in the OpenAPI document."""
from __future__ import annotations

from datetime import date

import pytest

from crm.people import service as people
from tests.analytics.month_seed import Oracle, seeded_month
from tests.web.api_helpers import assert_error


@pytest.fixture
def month(app_db, admin_user):
    return seeded_month(app_db)


def _get(client, token, url):
    return client.get(url, headers={"Authorization": f"Bearer {token}"})


def test_daily_weekly_monthly_match_the_oracle(client, app_db, month):
    token = people.create_token(app_db, "admin", "报表")
    oracle = Oracle(month)
    team = month.depts["top"]
    body = _get(client, token, f"/api/v1/reports/daily?dim=department&id={team}&day=2026-10-17").get_json()
    kpis = {k["key"]: k for k in body["kpis"]}
    for key in ("new_friends", "moments_posted", "reached", "consulted", "buyers", "gmv_fen"):
        assert kpis[key]["actual"] == oracle.value(key, "department", team, date(2026, 10, 17)), key
    assert body["scope"] == {"dim": "department", "id": team, "name": "销售一部"}
    assert {r["id"] for r in body["ranking"]} == {month.users["u1"], month.users["u2"], month.users["mgr"]}
    week = _get(client, token, "/api/v1/reports/weekly?dim=company&week=2026-W42").get_json()
    days = [date(2026, 10, d) for d in range(12, 19)]
    assert week["period"]["first"] == "2026-10-12" and week["period"]["last"] == "2026-10-18"
    assert {k["key"]: k["actual"] for k in week["kpis"]}["new_friends"] == sum(
        oracle.value("new_friends", "company", 0, d) for d in days)
    monthly = _get(client, token, "/api/v1/reports/monthly?month=2026-10").get_json()
    assert monthly["scope"]["dim"] == "company"
    all_days = [date(2026, 10, d) for d in range(1, 32)]
    assert {k["key"]: k["actual"] for k in monthly["kpis"]}["gmv_fen"] == sum(
        oracle.value("gmv_fen", "company", 0, d) for d in all_days)


def test_a_salesperson_gets_only_their_own_numbers(client, app_db, month):
    token = people.create_token(app_db, "u1", "我的报表")
    mine = _get(client, token, "/api/v1/reports/daily?day=2026-10-17")
    assert mine.status_code == 200 and mine.get_json()["scope"]["id"] == month.users["u1"]
    for url in (f"/api/v1/reports/daily?dim=user&id={month.users['u2']}", "/api/v1/reports/monthly?dim=company",
                f"/api/v1/reports/weekly?dim=department&id={month.depts['sub']}"):
        assert_error(_get(client, token, url), 404)
    manager = people.create_token(app_db, "mgr", "团队")
    assert _get(client, manager, f"/api/v1/reports/daily?dim=user&id={month.users['u1']}").status_code == 200
    assert_error(_get(client, manager, f"/api/v1/reports/daily?dim=department&id={month.depts['other']}"), 404)
    assert client.get("/api/v1/reports/daily").status_code == 401


def test_bad_parameters_and_openapi(client, app_db, month):
    token = people.create_token(app_db, "admin", "报表")
    assert_error(_get(client, token, "/api/v1/reports/daily?day=2026-13-40"), 422, "2026-12-07")
    assert_error(_get(client, token, "/api/v1/reports/weekly?week=W49"), 422)
    assert_error(_get(client, token, "/api/v1/reports/daily?dim=planet&id=1"), 400, "dim")
    assert_error(_get(client, token, "/api/v1/reports/daily?dim=user"), 400, "id")
    assert_error(_get(client, token, "/api/v1/reports/daily?dim=user&id=abc"), 400)
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/reports/daily", "/api/v1/reports/weekly", "/api/v1/reports/monthly"):
        assert "get" in spec["paths"][path], path
