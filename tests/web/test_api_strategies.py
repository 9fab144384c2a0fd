"""/api/v1/strategy-groups and /api/v1/strategies: CRUD, enable/disable (cancelling pending
tasks), pending-count, reorder, versions/diff/rollback, and strategies that would break the
engine refused with an explanation a marketer understands."""
from __future__ import annotations

from engine.models import StrategyTask
from rules.models import Strategy, StrategyGroup
from tests.web.api_helpers import (DELAYED_SMS, PASSWORD_EVENT, SMS_STEP, api, assert_error, count, row,  # noqa: F401
                                   runtime, world)


def test_groups_crud_and_reorder(api, world, app_db):
    second = api.ok("POST", "/api/v1/strategy-groups", {"name": "会员组"}, 201)
    assert [g["name"] for g in api.ok("GET", "/api/v1/strategy-groups")["items"]] == ["默认组", "会员组"]
    assert api.ok("POST", "/api/v1/strategy-groups/reorder", {"ids": [second["id"], world.group_id]})["order"] == \
        [second["id"], world.group_id]
    assert [g["id"] for g in api.ok("GET", "/api/v1/strategy-groups")["items"]] == [second["id"], world.group_id]
    assert api.ok("PUT", f"/api/v1/strategy-groups/{second['id']}", {"name": "VIP 组"})["name"] == "VIP 组"
    assert_error(api.put(f"/api/v1/strategy-groups/{second['id']}", {"name": "默认组"}), 422, "已存在")
    assert_error(api.post("/api/v1/strategy-groups", {}), 422, "名称不能为空")
    assert_error(api.post("/api/v1/strategy-groups", {"name": ["a"]}), 422, "name")
    assert_error(api.post("/api/v1/strategy-groups/reorder", {"ids": [second["id"], 999999]}), 404, "999999")
    assert [g["id"] for g in api.ok("GET", "/api/v1/strategy-groups")["items"]] == [second["id"], world.group_id]
    world.strategy(enabled=False)
    assert_error(api.delete(f"/api/v1/strategy-groups/{world.group_id}"), 422, "默认组", "1 条策略")
    assert api.ok("DELETE", f"/api/v1/strategy-groups/{second['id']}") == {"deleted": second["id"]}
    assert count(app_db, StrategyGroup) == 1


def test_strategy_crud_versions_diff_rollback(api, world, app_db):
    created = world.strategy(enabled=False, remark="第一版")
    sid = created["id"]
    assert created["enabled"] is False and created["version"] == 1 and created["created_by"] == "admin"
    url = f"/api/v1/strategies/{sid}"
    assert api.ok("GET", url)["name"] == "改密短信"
    edited = api.ok("PUT", url, world.strategy_body(name="改密短信v2", conditions=[row("status", "eq", "0")]))
    assert edited["version"] == 2 and edited["name"] == "改密短信v2"
    assert api.ok("PUT", url, world.strategy_body(name="改密短信v2", conditions=[row("status", "eq", "0")]))["version"] == 2
    versions = api.ok("GET", f"{url}/versions")["items"]
    assert sorted(v["version"] for v in versions) == [1, 2]
    changes = api.ok("GET", f"{url}/versions/1/diff")["changes"]
    assert "改密短信v2" in str(changes) and changes
    rolled = api.ok("POST", f"{url}/rollback", {"version": 1})
    assert rolled["version"] == 3 and rolled["name"] == "改密短信" and rolled["conditions"][0]["value"] == "1"
    assert_error(api.post(f"{url}/rollback", {"version": "1"}), 400, "version")
    assert_error(api.post(f"{url}/rollback", {"version": 99}), 404, "99")
    assert_error(api.get(f"{url}/versions/99/diff"), 404, "没有版本 99")
    assert [s["id"] for s in api.ok("GET", f"/api/v1/strategies?group_id={world.group_id}")["items"]] == [sid]
    assert api.ok("GET", "/api/v1/strategies?group_id=999")["items"] == []
    assert_error(api.get("/api/v1/strategies?group_id=abc"), 400, "group_id", "整数")
    assert api.ok("DELETE", url) == {"deleted": sid, "cancelled_tasks": 0}
    assert count(app_db, Strategy) == 0


def test_disabling_reports_cancelled_tasks(api, world, runtime, app_db):
    sid = world.strategy(steps=[DELAYED_SMS])["id"]
    world.ingest({"events": [{"id": f"e{i}", "event": "password_changed", "data": PASSWORD_EVENT} for i in range(3)]})
    runtime.tick()
    assert api.ok("POST", "/api/v1/strategies/pending-count", {"ids": [sid]}) == {"pending": 3}
    assert api.ok("POST", "/api/v1/strategies/enable", {"ids": [sid], "enabled": False}) == \
        {"changed": 1, "cancelled_tasks": 3}
    assert count(app_db, StrategyTask, StrategyTask.status == "cancelled") == 3
    assert api.ok("POST", "/api/v1/strategies/pending-count", {"ids": [sid]}) == {"pending": 0}
    assert api.ok("POST", "/api/v1/strategies/enable", {"ids": [sid], "enabled": True}) == \
        {"changed": 1, "cancelled_tasks": 0}
    assert_error(api.post("/api/v1/strategies/enable", {"ids": [sid], "enabled": "no"}), 400, "enabled")
    assert_error(api.post("/api/v1/strategies/enable", {"ids": [sid, 999999], "enabled": False}), 404, "999999")
    assert api.ok("GET", f"/api/v1/strategies/{sid}")["enabled"] is True  # nothing half-written


def test_reorder_within_a_group(api, world):
    a, b = world.strategy(name="甲")["id"], world.strategy(name="乙")["id"]
    assert api.ok("POST", "/api/v1/strategies/reorder", {"group_id": world.group_id, "ids": [b, a]})["order"] == [b, a]
    assert [s["id"] for s in api.ok("GET", "/api/v1/strategies")["items"]] == [b, a]
    other = api.ok("POST", "/api/v1/strategy-groups", {"name": "其他"}, 201)["id"]
    assert_error(api.post("/api/v1/strategies/reorder", {"group_id": other, "ids": [a, b]}), 422, "不属于")
    for bad in ("abc", [1], None, 1.5):
        assert_error(api.post("/api/v1/strategies/reorder", {"group_id": bad, "ids": [a, b]}), 400, "group_id")
    assert [s["id"] for s in api.ok("GET", "/api/v1/strategies")["items"]] == [b, a]


def test_missing_fields_and_wrong_types_are_named(api, world, app_db):
    body = assert_error(api.post("/api/v1/strategies", {}), 422, "name", "group_id", "event_id")
    assert set(body["error"]["fields"]) >= {"name", "group_id", "event_id"}
    cases = [
        ({"group_id": "abc"}, "group_id"),
        ({"event_id": [1]}, "event_id"),
        ({"steps": "sms"}, "steps"),
        ({"steps": []}, "steps"),
        ({"steps": [{"processor": "no_such"}]}, "steps[0].processor"),
        ({"steps": [{**SMS_STEP, "config": "text"}]}, "steps[0].config"),
        ({"steps": [{**SMS_STEP, "timing": {"mode": "sometime"}}]}, "steps[0].timing"),
        ({"steps": [{**SMS_STEP, "timing": {"mode": "delay", "hours": "soon"}}]}, "steps[0].timing"),
        ({"steps": [{**SMS_STEP, "timing": {"mode": "delay", "hours": -1}}]}, "steps[0].timing"),
        ({"steps": [{**SMS_STEP, "timing": "immediate"}]}, "steps[0].timing"),
        ({"steps": [{**SMS_STEP, "timing": {"mode": "until", "at": "明天"}}]}, "steps[0].timing"),
        ({"conditions": {"field": "status"}}, "conditions"),
        ({"conditions": ["status"]}, "conditions"),
        ({"starts_at": "2026-12-01", "ends_at": "2026-11-01"}, "ends_at"),
        ({"starts_at": {"a": 1}}, "starts_at"),
        ({"name": "x" * 201}, "name"),
    ]
    failures = []
    for override, field in cases:
        resp = api.post("/api/v1/strategies", {**world.strategy_body(), **override})
        if resp.status_code != 422 or field not in (resp.json or {}).get("error", {}).get("fields", {}):
            failures.append((override, resp.status_code, resp.get_data(as_text=True)[:200]))
    assert not failures, failures
    assert count(app_db, Strategy) == 0


def test_strategies_that_would_break_the_engine_are_refused_with_an_explanation(api, world, app_db):
    def refused(conditions=None, steps=None):
        resp = api.post("/api/v1/strategies", world.strategy_body(conditions=conditions, steps=steps))
        return assert_error(resp, 422)["error"]["fields"]

    unbalanced = [row("status", "eq", "1", lparen=1), row("mobile", "eq", "13800138000", join="or")]
    assert "第 1 行" in refused(unbalanced)["conditions"] and "括号" in refused(unbalanced)["conditions"]
    assert "事件中没有字段「vip」" in refused([row("vip", "eq", "1")])["conditions"]
    assert "不认识的操作符" in refused([row("status", "resembles", "1")])["conditions"]
    lacking = refused(steps=[{"processor": "sms", "config": {"mobile": "${mobile}", "content": "${couponCode}"}}])
    assert "${couponCode}" in lacking["steps[0].config"] and "第 1 步" in lacking["steps[0].config"]
    too_many = refused([row("mobile", "in", [f"1380013{i:04d}" for i in range(101)])])["conditions"]
    assert "第 1 行" in too_many and "101" in too_many and "100" in too_many
    repeated = refused([row("status", "eq", "1"), row("status", "eq", "1")])["conditions"]
    assert "第 2 行与第 1 行" in repeated
    rows = refused([row("customerName", "eq", f"客户{i}", join="or") for i in range(51)])["conditions"]
    assert "51" in rows and "50" in rows
    bad_regex = refused([row("customerName", "regex", "([")])["conditions"]
    assert "正则" in bad_regex
    assert count(app_db, Strategy) == 0
    # Exactly at the limits is fine.
    at_limit = [row("mobile", "in", [f"1380013{i:04d}" for i in range(100)])]
    api.ok("POST", "/api/v1/strategies", world.strategy_body(conditions=at_limit), 201)
