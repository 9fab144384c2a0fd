"""GET /api/v1/dashboard/overview, /funnel, /rfm: figures for the token's user, 422 on bad filters,
403 without dashboards.view, documented in the OpenAPI document."""
from __future__ import annotations

from datetime import date

import pytest

from analytics import rfm, rollup_store, segments
from crm.people import service as people
from crm.scope import SYSTEM
from tests.analytics.lifecycle_data import NOW, build


@pytest.fixture
def tokens(app_db, admin_user):
    mgr = people.create_user(app_db, "mgr", "Manager12345", roles=["manager"]).id
    people.create_user(app_db, "sales", "Sales12345", roles=["sales"])
    w = build(app_db, n=70, seed=2, owner_ids=(admin_user.id, mgr))
    with app_db.write() as s:
        rfm.refresh_scores(s, NOW)
        rollup_store.put(s, date(2026, 11, 19), "gmv_fen", {("company", 0): 9900, ("user", mgr): 700})
    return {name: people.create_token(app_db, name, "t") for name in ("admin", "mgr", "sales")}, w


def _get(client, token, path):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def test_overview_by_viewer(client, tokens):
    tok, _ = tokens
    body = _get(client, tok["admin"], "/api/v1/dashboard/overview?start=2026-11-01&end=2026-11-20").get_json()
    assert body["gmv_fen"] == 9900 and body["scope"] == {"dim": "company", "ids": [0]}
    assert len(body["trends"]["days"]) == 20 and body["trends"]["gmv_fen"][-2] == 9900
    mine = _get(client, tok["mgr"], "/api/v1/dashboard/overview?start=2026-11-01&end=2026-11-20").get_json()
    assert mine["gmv_fen"] == 700 and mine["customers"] < body["customers"]
    assert _get(client, tok["sales"], "/api/v1/dashboard/overview").status_code == 403


def test_funnel_and_rfm_equal_the_services(client, tokens, app_db):
    tok, w = tokens
    body = _get(client, tok["admin"], f"/api/v1/dashboard/funnel?scene_id={w.scenes[0]}&months=6").get_json()
    with app_db.read() as s:
        for step in body["steps"]:
            seg = segments.parse(step["segment"], NOW.date())
            assert step["count"] == len(segments.customer_ids(s, seg, SYSTEM))
    assert len(body["cohorts"]["rows"]) == 6
    rfm_body = _get(client, tok["admin"], "/api/v1/dashboard/rfm").get_json()
    assert sum(r["customers"] for r in rfm_body["segments"]) > 0 and rfm_body["cuts"]["mode"] == "quintile"


@pytest.mark.parametrize("query, field", [("start=2026-02-30", "start"), ("channel_id=x", "channel_id")])
def test_bad_filters_are_422(client, tokens, query, field):
    tok, _ = tokens
    resp = _get(client, tok["admin"], f"/api/v1/dashboard/overview?{query}")
    assert resp.status_code == 422 and field in resp.get_json()["error"]["fields"]
    assert _get(client, tok["admin"], "/api/v1/dashboard/funnel?months=99").status_code == 422


def test_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for p in ("/api/v1/dashboard/overview", "/api/v1/dashboard/funnel", "/api/v1/dashboard/rfm"):
        assert "get" in paths[p]
