"""/api/v1/event-definitions and /api/v1/apps: success paths, the 409 confirm flow when an edit
breaks an enabled strategy, wrong types and missing fields named in Chinese, nothing half-written."""
from __future__ import annotations

from events.models import App, EventDefinition
from tests.web.api_helpers import api, assert_error, count, row, runtime, viewer_api, world  # noqa: F401

FIELDS = [{"name": "orderNo", "type": "text", "label": "订单号", "required": True},
          {"name": "amount", "type": "number", "label": "金额"}]


def test_definitions_crud(api, app_db):
    created = api.ok("POST", "/api/v1/event-definitions",
                     {"code": "order_paid", "name": "订单支付", "fields": FIELDS, "remark": "商城"}, 201)
    assert created["code"] == "order_paid" and created["version"] == 1 and created["enabled"] is True
    assert [f["name"] for f in created["fields"]] == ["orderNo", "amount"]
    url = f"/api/v1/event-definitions/{created['id']}"
    assert api.ok("GET", url) == created
    updated = api.ok("PUT", url, {"code": "order_paid", "name": "订单已支付", "fields": FIELDS[:1]})
    assert updated["name"] == "订单已支付" and updated["version"] == 2 and len(updated["fields"]) == 1
    assert [d["id"] for d in api.ok("GET", "/api/v1/event-definitions")["items"]] == [created["id"]]
    assert api.ok("DELETE", url) == {"deleted": created["id"]}
    assert_error(api.get(url), 404, str(created["id"]))
    assert count(app_db, EventDefinition) == 0


def test_import_builtin_enable_and_copy(api):
    first = api.ok("POST", "/api/v1/event-definitions/import-builtin")
    assert "修改密码事件" in first["created"] and first["skipped"] == []
    again = api.ok("POST", "/api/v1/event-definitions/import-builtin")
    assert again["created"] == [] and sorted(again["skipped"]) == sorted(first["created"])
    items = api.ok("GET", "/api/v1/event-definitions")["items"]
    ids = [d["id"] for d in items[:2]]
    assert api.ok("POST", "/api/v1/event-definitions/enable", {"ids": ids, "enabled": False}) == {"changed": 2}
    assert [api.ok("GET", f"/api/v1/event-definitions/{i}")["enabled"] for i in ids] == [False, False]
    copies = api.ok("POST", "/api/v1/event-definitions/copy", {"ids": ids[:1]}, 201)["items"]
    assert copies[0]["name"].endswith("-副本") and copies[0]["code"].startswith(items[0]["code"] + "_")
    assert copies[0]["fields"] == items[0]["fields"]


def test_definition_validation_names_each_field(api, app_db):
    body = assert_error(api.post("/api/v1/event-definitions", {"code": "bad code!", "name": "",
                                                               "fields": [{"name": "1x", "type": "colour"}]}),
                        422, "code", "name", "fields[0]")
    assert set(body["error"]["fields"]) >= {"code", "name"}
    assert_error(api.post("/api/v1/event-definitions", {"code": "x", "name": "甲", "fields": "orderNo"}), 422, "fields")
    api.ok("POST", "/api/v1/event-definitions", {"code": "dup", "name": "甲"}, 201)
    assert_error(api.post("/api/v1/event-definitions", {"code": "dup", "name": "乙"}), 422, "dup", "已被")
    assert count(app_db, EventDefinition) == 1


def test_enable_refuses_ids_and_flags_of_the_wrong_type(api, world):
    one = world.event_id()
    for bad in ({"ids": "1"}, {"ids": []}, {"ids": [True]}, {"ids": ["1"]}, {"ids": [1.5]}, {"enabled": True}):
        assert_error(api.post("/api/v1/event-definitions/enable", {"enabled": False, **bad}), 400, "ids")
    assert_error(api.post("/api/v1/event-definitions/enable", {"ids": list(range(1, 1002)), "enabled": True}), 400, "1000")
    # "false" is a string, not a boolean: refusing it beats silently enabling the event.
    assert_error(api.post("/api/v1/event-definitions/enable", {"ids": [one], "enabled": "false"}), 400, "enabled")
    assert_error(api.post("/api/v1/event-definitions/enable", {"ids": [one]}), 400, "enabled")
    assert api.ok("GET", f"/api/v1/event-definitions/{one}")["enabled"] is True
    assert_error(api.post("/api/v1/event-definitions/enable", {"ids": [one, 999999], "enabled": False}), 404, "999999")
    assert api.ok("GET", f"/api/v1/event-definitions/{one}")["enabled"] is True  # nothing half-written
    assert_error(api.post("/api/v1/event-definitions/copy", {"ids": [one, 999999]}), 404, "999999")
    assert len(api.ok("GET", "/api/v1/event-definitions")["items"]) == len(world.events)


def test_edit_that_breaks_an_enabled_strategy_needs_confirmation(api, world):
    strategy = world.strategy(conditions=[row("status", "eq", "1")])
    event = world.events["password_changed"]
    url = f"/api/v1/event-definitions/{event['id']}"
    without_status = [f for f in event["fields"] if f["name"] != "status"]
    edit = {"code": event["code"], "name": event["name"], "fields": without_status}
    body = assert_error(api.put(url, edit), 409, "confirm", "改密短信", "status")
    [hit] = body["error"]["details"]
    assert hit["id"] == strategy["id"] and hit["problems"]
    assert api.ok("GET", url)["version"] == event["version"]  # unchanged until confirmed
    without_mobile = [f for f in event["fields"] if f["name"] != "mobile"]
    body = assert_error(api.put(url, {**edit, "fields": without_mobile}), 409, "mobile")
    assert "第 1 步" in body["error"]["details"][0]["problems"][0]
    confirmed = api.ok("PUT", url, {**edit, "confirm": True})
    assert confirmed["version"] == event["version"] + 1
    assert_error(api.delete(url), 409, "1 条策略")
    assert api.ok("GET", url)["id"] == event["id"]


def test_edit_with_fields_of_the_wrong_type_is_422_not_500(api, world):
    world.strategy()
    event = world.events["password_changed"]
    url = f"/api/v1/event-definitions/{event['id']}"
    for fields in (5, "status", {"name": "x"}, [1, 2]):
        assert_error(api.put(url, {"code": event["code"], "name": event["name"], "fields": fields}), 422, "fields")


def test_apps_crud_and_rotation(api, app_db, runtime):
    created = api.ok("POST", "/api/v1/apps", {"name": "商城", "ip_allowlist": ["10.0.0.1", "192.168.0.0/16"],
                                              "remark": "正式环境"}, 201)
    assert created["app_key"].startswith("ak_") and len(created["secret"]) >= 32
    assert created["ip_allowlist"] == ["10.0.0.1/32", "192.168.0.0/16"]
    [listed] = api.ok("GET", "/api/v1/apps")["items"]
    assert "secret" not in listed and listed["secret_rotating_until"] is None
    url = f"/api/v1/apps/{created['id']}"
    updated = api.ok("PUT", url, {"name": "商城2", "enabled": False, "ip_allowlist": []})
    assert (updated["name"], updated["enabled"], updated["ip_allowlist"]) == ("商城2", False, [])
    rotated = api.ok("POST", f"{url}/rotate-secret")
    assert rotated["secret"] != created["secret"] and rotated["grace_hours"] == 24
    app = runtime.catalog.apps.get(created["app_key"])
    assert set(app.secrets) == {created["secret"], rotated["secret"]}
    assert api.ok("DELETE", url) == {"deleted": created["id"]}
    assert_error(api.delete(url), 404, str(created["id"]))
    assert count(app_db, App) == 0


def test_app_validation_names_each_field(api, app_db):
    body = assert_error(api.post("/api/v1/apps", {"name": " ", "ip_allowlist": ["10.0.0.300"]}), 422,
                        "name", "10.0.0.300")
    assert set(body["error"]["fields"]) == {"name", "ip_allowlist"}
    assert_error(api.post("/api/v1/apps", {"ip_allowlist": []}), 422, "name")
    api.ok("POST", "/api/v1/apps", {"name": "甲"}, 201)
    assert_error(api.post("/api/v1/apps", {"name": "甲"}), 422, "已存在")
    for bad in (5, {"a": 1}, True):
        assert_error(api.post("/api/v1/apps", {"name": "乙", "ip_allowlist": bad}), 422, "ip_allowlist")
    assert count(app_db, App) == 1
