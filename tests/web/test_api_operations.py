"""/api/v1/processors (+ custom HTTP definitions), /api/v1/tasks (list, cancel, replay) and
/api/v1/event-records (list defaulting to today in Asia/Shanghai, detail)."""
from __future__ import annotations

from datetime import datetime

import pytest

from config.clock import UTC
from engine.models import StrategyTask
from handlers.models import ProcessorDefinition
from tests.web.api_helpers import (DELAYED_SMS, PASSWORD_EVENT, api, assert_error, count, row, runtime,  # noqa: F401
                                   world)

HOOK = {"name": "CRM 回调", "method": "POST", "url": "https://crm.example.com/hook", "body": '{"m": "${mobile}"}',
        "params": [{"name": "src", "value": "ckb"}], "timeout_seconds": 5}


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"http_allow_private_hosts": ["127.0.0.1"], "step_max_attempts": 2})


def test_processors_list_and_custom_definitions_crud(api, app_db):
    keys = {p["key"] for p in api.ok("GET", "/api/v1/processors")["items"]}
    assert {"sms", "email", "http"} <= keys
    created = api.ok("POST", "/api/v1/processors/definitions", HOOK, 201)
    assert created["key"].startswith("custom.") and created["params"][0]["name"] == "src"
    assert created["key"] in {p["key"] for p in api.ok("GET", "/api/v1/processors")["items"]}
    assert [p["id"] for p in api.ok("GET", "/api/v1/processors/definitions")["items"]] == [created["id"]]
    url = f"/api/v1/processors/definitions/{created['id']}"
    updated = api.ok("PUT", url, {"timeout_seconds": 9})
    assert updated["timeout_seconds"] == 9 and updated["key"] == created["key"] and updated["name"] == "CRM 回调"
    assert api.ok("DELETE", url) == {"deleted": created["id"]}
    assert_error(api.delete(url), 404, str(created["id"]))
    assert count(app_db, ProcessorDefinition) == 0


def test_processor_validation_names_each_field(api, app_db):
    body = assert_error(api.post("/api/v1/processors/definitions",
                                 {"name": "", "method": "FETCH", "url": "ftp://x", "timeout_seconds": "slow",
                                  "params": 5, "body": "{not json"}), 422, "name", "method", "url", "timeout_seconds")
    assert set(body["error"]["fields"]) >= {"name", "method", "url", "timeout_seconds", "params"}
    api.ok("POST", "/api/v1/processors/definitions", HOOK, 201)
    assert_error(api.post("/api/v1/processors/definitions", HOOK), 422, "已被其他处理器使用")
    assert_error(api.post("/api/v1/processors/definitions", {**HOOK, "name": "乙", "timeout_seconds": 61}), 422, "1–60")
    assert count(app_db, ProcessorDefinition) == 1


def test_tasks_list_cancel_and_filters(api, world, runtime):
    sid = world.strategy(steps=[DELAYED_SMS])["id"]
    world.ingest({"events": [{"id": f"e{i}", "event": "password_changed", "data": PASSWORD_EVENT} for i in range(3)]})
    runtime.tick()
    listed = api.ok("GET", f"/api/v1/tasks?strategy_id={sid}&delayed_only=1&per_page=2")
    assert listed["total"] == 3 and len(listed["items"]) == 2
    task = listed["items"][0]
    assert task["status"] == "pending" and task["strategy_name"] == "改密短信" and task["event_code"] == "password_changed"
    assert task["timing"] == "delay" and task["due_at"].startswith("2026-11-22T02:00")
    assert api.ok("GET", "/api/v1/tasks?page=2&per_page=2")["items"][0]["id"] < task["id"]
    assert api.ok("POST", "/api/v1/tasks/cancel", {"ids": [task["id"], 999999]}) == {"cancelled": 1}
    assert api.ok("POST", "/api/v1/tasks/cancel", {"ids": [task["id"]]}) == {"cancelled": 0}
    cancelled = api.ok("GET", "/api/v1/tasks?status=cancelled")["items"]
    assert [t["id"] for t in cancelled] == [task["id"]] and "admin" in cancelled[0]["note"]
    assert api.ok("GET", "/api/v1/tasks?since=2026-11-21")["total"] == 0
    for query, word in (("page=0", "page"), ("per_page=201", "per_page"), ("strategy_id=x", "strategy_id"),
                        ("since=yesterday", "since")):
        assert_error(api.get(f"/api/v1/tasks?{query}"), 400, word)


def test_dead_letter_replay(api, world, runtime, fake_http, app_db):
    fake_http.fail_then_succeed("/hook", failures=2)
    hook = api.ok("POST", "/api/v1/processors/definitions", {**HOOK, "url": fake_http.url("/hook")}, 201)
    world.strategy(steps=[{"processor": hook["key"], "config": {}}])
    world.ingest({"id": "d1", "event": "password_changed", "data": PASSWORD_EVENT})
    for _ in range(4):
        runtime.tick()
        runtime.services.clock.advance(minutes=5)
    [dead] = api.ok("GET", "/api/v1/tasks?status=dead")["items"]
    assert dead["attempts"] == 2 and dead["last_error"]
    assert api.ok("POST", "/api/v1/tasks/replay", {"ids": [dead["id"]]}) == {"replayed": 1}
    assert api.ok("POST", "/api/v1/tasks/replay", {"ids": [dead["id"]]}) == {"replayed": 0}
    runtime.tick()
    assert count(app_db, StrategyTask, StrategyTask.status == "done") == 1
    detail = api.ok("GET", f"/api/v1/event-records/{dead['event_record_id']}")
    [run] = detail["runs"]
    assert [a["ok"] for a in run["tasks"][0]["attempts"]] == [False, False, True]
    assert_error(api.post("/api/v1/tasks/replay", {"ids": "all"}), 400, "ids")


def test_event_records_default_to_today_in_shanghai(api, world, runtime):
    clock = runtime.services.clock
    clock.set(datetime(2026, 11, 19, 15, 30, tzinfo=UTC))  # 23:30 on the 19th in Shanghai
    world.ingest({"id": "yesterday", "event": "password_changed", "data": PASSWORD_EVENT})
    clock.set(datetime(2026, 11, 19, 16, 30, tzinfo=UTC))  # 00:30 on the 20th in Shanghai, still the 19th in UTC
    world.ingest({"id": "today", "event": "password_changed", "data": PASSWORD_EVENT})
    clock.set(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
    today = api.ok("GET", "/api/v1/event-records")
    assert [i["external_id"] for i in today["items"]] == ["today"] and today["total"] == 1
    everything = api.ok("GET", "/api/v1/event-records?all=1")["items"]
    assert [i["external_id"] for i in everything] == ["today", "yesterday"]
    assert api.ok("GET", "/api/v1/event-records?since=2026-11-19&until=2026-11-20")["total"] == 1
    assert api.ok("GET", "/api/v1/event-records?all=1&event_code=register")["total"] == 0
    assert api.ok("GET", f"/api/v1/event-records?all=1&app_id={world.app_id}&outcome=pending")["total"] == 2
    assert_error(api.get("/api/v1/event-records?since=昨天"), 400, "since")
    assert_error(api.get("/api/v1/event-records?app_id=abc"), 400, "app_id")


def test_event_record_detail_explains_matches_and_misses(api, world, runtime):
    hit = world.strategy(name="命中")["id"]
    world.strategy(name="未命中", conditions=[row("status", "eq", "0")])
    world.strategy(name="停用", enabled=False)
    record_id = world.ingest({"id": "x", "event": "password_changed", "data": PASSWORD_EVENT}).payload["accepted"][0]["record_id"]
    runtime.tick()
    detail = api.ok("GET", f"/api/v1/event-records/{record_id}")
    assert detail["outcome"] == "matched" and detail["matched_count"] == 1 and detail["event_name"] == "修改密码事件"
    [run] = detail["runs"]
    assert run["strategy_id"] == hit and run["tasks"][0]["status"] == "done"
    assert run["tasks"][0]["attempts"][0]["ok"] is True
    reasons = {u["strategy_name"]: u["reason"] for u in detail["unmatched"]}
    assert reasons == {"未命中": "条件不满足", "停用": "策略未启用"}
    miss = next(u for u in detail["unmatched"] if u["strategy_name"] == "未命中")
    assert miss["trace"][0]["result"] is False
    assert_error(api.get("/api/v1/event-records/999999"), 404, "999999")
