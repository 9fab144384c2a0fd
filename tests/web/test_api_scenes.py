"""获客场景配置 and 渠道 over /api/v1: create answers the webhook secret once (never again), partial
updates are versioned, bad settings are 422 naming each field, unknown ids 404, delete removes the
scene, and the permission of every route is the documented one."""
from __future__ import annotations

import json

import pytest

from crm.leads.models import LeadSceneVersion
from events.models import EventDefinition
from tests.web.api_helpers import anon_api, api, assert_error, count, viewer_api  # noqa: F401

BASE = "/api/v1/scenes/configurations"
FORM_SCENE = {"scene_name": "官网表单", "scene_key": "web_form", "scene_type": "WEB_FORM",
              "deduplication_strategy": "BY_EMAIL",
              "data_mapping_rules": [{"source": "submission_data.tel", "target": "mobile", "transform": "phone"},
                                     {"source": "form_id", "target": "form_id", "label": "表单"}]}


@pytest.fixture
def created(api) -> dict:
    return api.ok("POST", BASE, FORM_SCENE, 201)


def test_create_answers_the_secret_once_and_registers_the_event(api, created, app_db):
    assert created["scene_name"] == "官网表单" and created["scene_type"] == "WEB_FORM"
    assert created["deduplication_strategy"] == "BY_EMAIL" and created["has_secret"] is True
    secret = created["webhook_secret"]
    assert isinstance(secret, str) and len(secret) >= 16
    again = api.get(f"{BASE}/{created['scene_config_id']}").get_data(as_text=True)
    listed = api.get(BASE).get_data(as_text=True)
    assert secret not in again and secret not in listed and "webhook_secret" not in again
    assert created["event_code"] and created["strategy_id"]
    assert count(app_db, EventDefinition, EventDefinition.code == created["event_code"]) == 1


def test_list_and_filter_by_type(api, created):
    assert [s["scene_config_id"] for s in api.ok("GET", BASE)["items"]] == [created["scene_config_id"]]
    assert api.ok("GET", f"{BASE}?scene_type=PHONE_CALL")["items"] == []
    assert_error(api.get(f"{BASE}?scene_type=PIGEON"), 400, "PIGEON")


def test_partial_update_keeps_the_rest_and_is_versioned(api, created, app_db):
    sid = created["scene_config_id"]
    updated = api.ok("PUT", f"{BASE}/{sid}", {"deduplication_strategy": "BY_PHONE_OR_EMAIL", "rate_limit_per_minute": 120})
    assert updated["deduplication_strategy"] == "BY_PHONE_OR_EMAIL" and updated["rate_limit_per_minute"] == 120
    assert updated["scene_name"] == "官网表单" and updated["data_mapping_rules"] == created["data_mapping_rules"]
    assert updated["version"] == created["version"] + 1
    assert count(app_db, LeadSceneVersion, LeadSceneVersion.scene_id == sid) >= 2
    echoed = api.ok("PUT", f"{BASE}/{sid}", updated)  # what GET answers can be sent back as it is
    assert echoed["deduplication_strategy"] == "BY_PHONE_OR_EMAIL"


@pytest.mark.parametrize("body, fields", [
    ({"deduplication_strategy": "BY_FAX"}, ["deduplication_strategy"]),
    ({"scene_type": "PHONE_CALL"}, ["scene_type"]),
    ({"rate_limit_per_minute": -5}, ["rate_limit_per_minute"]),
    ({"source_channel_default_id": 999999}, ["source_channel_default_id"]),
    ({"data_mapping_rules": [{"source": "a", "target": "Bad Name"}]}, ["data_mapping_rules[0].target"]),
    ({"auto_tagging_rules": [{"name": "x", "rows": [], "tags": [999]}]}, ["auto_tagging_rules[0].tags"]),
    ({"is_enabled": "no"}, ["is_enabled"]),
    ({"webhook_secret": "mine"}, ["webhook_secret"]),
    ({"credentials": "token"}, ["credentials"]),
])
def test_bad_settings_are_422_naming_the_field_and_change_nothing(api, created, body, fields):
    sid = created["scene_config_id"]
    answer = assert_error(api.put(f"{BASE}/{sid}", body), 422)
    for field in fields:
        assert field in answer["error"]["fields"], answer
    assert api.ok("GET", f"{BASE}/{sid}")["version"] == created["version"]


def test_create_refuses_missing_or_clashing_names(api, created):
    answer = assert_error(api.post(BASE, {"scene_type": "WEB_FORM"}), 422, "场景名称")
    assert "scene_name" in answer["error"]["fields"]
    assert_error(api.post(BASE, {**FORM_SCENE, "scene_key": "other"}), 422, "已存在")


def test_rotating_the_secret_answers_a_new_one_once(api, created):
    sid = created["scene_config_id"]
    rotated = api.ok("POST", f"{BASE}/{sid}/secret")
    assert rotated["scene_config_id"] == sid and rotated["webhook_secret"] not in ("", created["webhook_secret"])
    assert rotated["webhook_secret"] not in api.get(f"{BASE}/{sid}").get_data(as_text=True)


def test_delete_then_unknown_ids_are_404(api, created):
    sid = created["scene_config_id"]
    assert api.ok("DELETE", f"{BASE}/{sid}") == {"deleted": sid}
    for method in ("GET", "PUT", "DELETE"):
        assert_error(api.call(method, f"{BASE}/{sid}", {} if method == "PUT" else None), 404, str(sid))


def test_channels_list_and_create(api, viewer_api):
    made = api.ok("POST", "/api/v1/channels", {"name": "百度推广", "channel_type": "PAID_SEARCH", "code": "baidu"}, 201)
    assert made["channel_type_label"] == "付费搜索" and made["is_active"] is True
    assert [c["name"] for c in viewer_api.ok("GET", "/api/v1/channels")["items"]] == ["百度推广"]
    assert_error(api.post("/api/v1/channels", {"name": "百度推广"}), 422, "已存在")
    assert_error(api.post("/api/v1/channels", {"name": ["x"]}), 422, "字符串")
    assert_error(api.post("/api/v1/channels", {"name": "x", "channel_type": "FAX"}), 422, "FAX")
    assert_error(viewer_api.post("/api/v1/channels", {"name": "抖音"}), 403, "scenes.manage")


def test_a_scene_can_use_a_channel_by_default(api):
    channel = api.ok("POST", "/api/v1/channels", {"name": "官网", "channel_type": "ORGANIC_SOCIAL"}, 201)
    scene = api.ok("POST", BASE, {**FORM_SCENE, "source_channel_default_id": channel["channel_id"]}, 201)
    assert scene["source_channel_default_id"] == channel["channel_id"]


def test_viewer_reads_but_cannot_write(viewer_api, created):
    sid = created["scene_config_id"]
    assert viewer_api.get(BASE).status_code == 200 and viewer_api.get(f"{BASE}/{sid}").status_code == 200
    for method, path in (("POST", BASE), ("PUT", f"{BASE}/{sid}"), ("DELETE", f"{BASE}/{sid}"),
                         ("POST", f"{BASE}/{sid}/secret")):
        answer = assert_error(viewer_api.call(method, path, {} if method != "DELETE" else None), 403, "scenes.manage")
        assert [d["permission"] for d in answer["error"]["details"]] == ["scenes.manage"]


def test_anonymous_is_401(anon_api):
    assert_error(anon_api.get(BASE), 401, "令牌")
    assert_error(anon_api.post("/api/v1/channels", {"name": "x"}), 401, "令牌")


def test_scene_routes_are_documented(anon_api):
    paths = anon_api.get("/api/v1/openapi.json").json["paths"]
    assert set(paths[BASE]) == {"get", "post"}
    assert set(paths[BASE + "/{scene_config_id}"]) == {"get", "put", "delete"}
    assert set(paths["/api/v1/channels"]) == {"get", "post"}
    assert "scenes.manage" in json.dumps(paths[BASE]["post"], ensure_ascii=False)


def test_channel_update_is_partial_and_disabling_is_offered_instead_of_deleting_a_used_one(api, created, app_db):
    from crm.leads.models import Lead
    channel = api.ok("POST", "/api/v1/channels", {"name": "百度推广", "channel_type": "PAID_SEARCH", "code": "baidu"}, 201)
    cid = channel["channel_id"]
    changed = api.ok("PUT", f"/api/v1/channels/{cid}", {"remark": "春季投放"})
    assert (changed["name"], changed["code"], changed["remark"], changed["is_active"]) == ("百度推广", "baidu", "春季投放", True)
    assert_error(api.put(f"/api/v1/channels/{cid}", {"is_active": "no"}), 422, "is_active")
    assert_error(api.put(f"/api/v1/channels/{cid}", {"name": ""}), 422, "渠道名称")
    assert api.ok("GET", f"/api/v1/channels/{cid}")["remark"] == "春季投放"
    with app_db.write() as s:
        s.add(Lead(scene_id=created["scene_config_id"], channel_id=cid))
    assert_error(api.delete(f"/api/v1/channels/{cid}"), 422, "停用")
    assert api.ok("PUT", f"/api/v1/channels/{cid}", {"is_active": False})["is_active"] is False
    spare = api.ok("POST", "/api/v1/channels", {"name": "空渠道"}, 201)["channel_id"]
    assert api.ok("DELETE", f"/api/v1/channels/{spare}") == {"deleted": spare}
    for method in ("GET", "PUT", "DELETE"):
        assert_error(api.call(method, f"/api/v1/channels/{spare}", {} if method == "PUT" else None), 404, str(spare))
