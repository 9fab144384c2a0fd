"""/api/v1/auto-accept-rules: 自动通过规则 CRUD as the console keeps them (PUT changes only what it
names), refusals naming the field with nothing written, accounts.view to read, accounts.manage to
change; and /api/v1/friends/match-all, the console's bulk 关联客户档案."""
from __future__ import annotations

from crm.customers import service as customers
from devices.models import AutoAcceptRule
from tests.devices.console.fixtures import device_permissions, world  # noqa: F401 - fixtures
from tests.devices.console.seed import FRIEND_MOBILE
from tests.web.api_helpers import api, assert_error, count, viewer_api  # noqa: F401 - fixtures

RULE = {"name": "课程咨询自动通过", "keywords": ["课程", "报名"], "sources": ["search"], "daily_cap": 20,
        "start_time": "22:00", "end_time": "07:00"}


def test_rules_crud(api, app_db, world, viewer_api):  # noqa: F811
    created = api.ok("POST", "/api/v1/auto-accept-rules", {**RULE, "account_ids": [world["a1"]]}, 201)
    rid = created["id"]
    assert created["enabled"] is True and created["account_ids"] == [world["a1"]] and created["end_time"] == "07:00"
    assert [r["name"] for r in viewer_api.ok("GET", "/api/v1/auto-accept-rules")["items"]] == ["课程咨询自动通过"]
    updated = api.ok("PUT", f"/api/v1/auto-accept-rules/{rid}", {"enabled": False, "daily_cap": 5})
    assert (updated["enabled"], updated["daily_cap"], updated["keywords"]) == (False, 5, ["课程", "报名"])
    assert api.ok("GET", f"/api/v1/auto-accept-rules/{rid}")["account_ids"] == [world["a1"]]
    assert api.ok("DELETE", f"/api/v1/auto-accept-rules/{rid}") == {"deleted": rid}
    assert_error(api.get(f"/api/v1/auto-accept-rules/{rid}"), 404, str(rid))
    assert_error(viewer_api.post("/api/v1/auto-accept-rules", RULE), 403, "accounts.manage")


def test_rule_refusals_name_the_field(api, app_db, world):  # noqa: F811
    cases = [({**RULE, "daily_cap": 500}, "daily_cap"), ({**RULE, "start_time": "25:00"}, "start_time"),
             ({**RULE, "end_time": "22:00"}, "end_time"), ({**RULE, "sources": ["carrier"]}, "sources"),
             ({**RULE, "account_ids": [999999]}, "account_ids"), ({**RULE, "keywords": "课程"}, "keywords"),
             ({**RULE, "enabled": "yes"}, "enabled"), ({**RULE, "name": ""}, "name"), ({**RULE, "x": 1}, "x")]
    for body, field in cases:
        assert field in assert_error(api.post("/api/v1/auto-accept-rules", body), 422, field)["error"]["fields"], body
    assert count(app_db, AutoAcceptRule) == 0
    assert_error(api.put("/api/v1/auto-accept-rules/999999", {"enabled": False}), 404, "999999")


def test_match_all_links_friends_by_phone(api, app_db, world, viewer_api):  # noqa: F811
    with app_db.write() as s:
        cid = customers.create_customer(s, {"name": "张总", "mobile": FRIEND_MOBILE}).id
    assert api.ok("POST", "/api/v1/friends/match-all") == {"linked": 1}
    assert [f["customer_id"] for f in api.ok("GET", "/api/v1/friends?linked=yes")["items"]] == [cid]
    assert api.ok("POST", "/api/v1/friends/match-all") == {"linked": 0}
    assert_error(viewer_api.post("/api/v1/friends/match-all"), 403, "accounts.manage")
