"""Ids past what the database holds, in JSON bodies of every /api/v1 write route: a named 400 or
the route's own 4xx, never a 500. On PostgreSQL an id past INTEGER (2^31) is
refused by the database itself (NumericValueOutOfRange); on SQLite an int past 64 bits cannot even
be bound. Runs in both passes of `make test` (the PostgreSQL pass lists this file)."""
from __future__ import annotations

import re

import pytest
from tests.web.api_helpers import api, runtime, world  # noqa: F401 - fixtures

HUGE = [2**31, 2**40, 2**70]
ID_FIELDS = ("id", "user_id", "team_id", "group_id", "event_id", "customer_id", "scene_id", "channel_id",
             "plan_id", "strategy_id", "app_id", "owner_id", "assignee_id", "tag_id", "company_id",
             "definition_id", "processor_id", "lead_id", "related_customer_id", "sku_id", "spu_id", "category_id",
             "brand_id", "parent_id", "credited_user_id", "order_id", "line_id", "saved_query_id")
SIGNED = ("/api/v1/events", "/api/v1/leads/ingestions")  # HMAC-signed: refused before any body is read


def _body(value: int) -> dict:
    body = {name: value for name in ID_FIELDS}
    body.update(ids=[value], tag_ids=[value], group_ids=[value], channel_ids=[value], user_ids=[value],
                enabled=True, name="大数", status="ASSIGNED", audience_tag_ids=[value],
                lines=[{"sku_id": value, "line_id": value, "quantity": 1}])
    return body


def _write_routes(app, known_ids: dict):
    for rule in app.url_map.iter_rules():
        path = rule.rule
        if not path.startswith("/api/v1/") or path in SIGNED:
            continue
        for method in sorted((rule.methods or set()) & {"POST", "PUT", "PATCH"}):
            url = re.sub(r"<(?:int:)?(\w+)>", lambda m: str(known_ids.get(m.group(1), 1)), path)
            yield method, url


@pytest.mark.parametrize("value", HUGE)
def test_huge_ids_in_api_bodies_are_refused_without_a_500(app, app_db, api, world, value):  # noqa: F811
    strategy = world.strategy()
    known = {"strategy_id": strategy["id"], "group_id": world.group_id, "app_id": world.app_id,
             "event_id": world.event_id(), "definition_id": world.event_id()}
    failures = []
    for method, url in _write_routes(app, known):
        resp = api.call(method, url, _body(value))
        if resp.status_code >= 500:
            failures.append(f"{method} {url}: {resp.status_code} {resp.get_data(as_text=True)[:200]}")
        elif resp.status_code >= 400:
            assert resp.get_json()["error"]["message"], (method, url)
    assert failures == []


def test_an_unstorable_value_is_a_named_400(app, app_db, api, world):  # noqa: F811
    resp = api.post("/api/v1/strategies", world.strategy_body(name="大数分组", group_id=2**70))
    assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)
    assert resp.get_json()["error"]["message"]
    assert not any(s["name"] == "大数分组" for s in api.get("/api/v1/strategies").json["items"])  # nothing written
