"""/api/v1/strategies/test (dry run: trace + rendered steps, no side effect), /strategies/backtest,
and /bundles export → import into a fresh database with a report."""
from __future__ import annotations

import pytest

from engine.models import StrategyRun, StrategyTask
from events.models import EventRecord
from handlers.models import MailMessage, SmsMessage
from rules.models import Strategy
from tests.web.api_helpers import (EMAIL, MOBILE, PASSWORD_EVENT, SMS_STEP, Api, api, assert_error, count,  # noqa: F401
                                   row, runtime, token_for, world)


@pytest.fixture
def settings(settings, smtp_sink):
    """Real SMTP sink and a reachable fake HTTP server: had the dry run any effect, we would see it."""
    return settings.model_copy(update={**smtp_sink.settings_update(), "http_allow_private_hosts": ["127.0.0.1"]})


def steps(fake_http):
    return [SMS_STEP,
            {"processor": "email", "config": {"to": "${email}", "subject": "提醒", "body": "${customerName} 您好"}},
            {"processor": "http", "config": {"method": "POST", "url": fake_http.url("/hook"),
                                             "body": '{"name": "${customerName}"}'},
             "timing": {"mode": "delay", "hours": 2}}]


def no_effects(app_db, fake_http, smtp_sink) -> bool:
    return (count(app_db, SmsMessage), count(app_db, MailMessage), len(fake_http.requests),
            len(smtp_sink.messages), count(app_db, StrategyTask), count(app_db, StrategyRun),
            count(app_db, EventRecord)) == (0, 0, 0, 0, 0, 0, 0)


def test_dry_run_traces_rows_and_renders_steps_without_side_effects(api, world, app_db, fake_http, smtp_sink, runtime):
    strategy = world.strategy_body(conditions=[row("status", "eq", "1"), row("customerName", "contains", "张")],
                                   steps=steps(fake_http))
    result = api.ok("POST", "/api/v1/strategies/test", {"strategy": strategy, "sample": PASSWORD_EVENT})
    assert result["valid"] is True and result["matched"] is True
    assert [t["row"] for t in result["trace"] if "row" in t] == [1, 2] and all(t["result"] for t in result["trace"])
    sms, mail, http = result["steps"]
    assert sms["rendered"]["mobile"] == MOBILE and sms["rendered"]["content"] == "张三，您的密码已修改"
    assert mail["rendered"]["to"] == [EMAIL] or EMAIL in str(mail["rendered"])
    assert "张三" in str(http["rendered"]) and http["timing"] == "delay"
    # the same instant (04:00 UTC), written in the configured zone like every time the answer shows
    assert http["due_at"].startswith("2026-11-20T12:00") and http["due_at"].endswith("+08:00")
    assert http["due_at_text"] == "2026-11-20 12:00"
    missed = api.ok("POST", "/api/v1/strategies/test", {"strategy": strategy, "sample": {**PASSWORD_EVENT, "status": "0"}})
    assert missed["matched"] is False and missed["trace"][0]["result"] is False
    invalid = api.ok("POST", "/api/v1/strategies/test", {"strategy": strategy, "sample": {"status": "1"}})
    assert invalid["valid"] is False and {e["field"] for e in invalid["errors"]} == {"customerName", "mobile"}
    assert no_effects(app_db, fake_http, smtp_sink)
    # The control: the same strategy, run for real, does reach all three.
    world.strategy(conditions=strategy["conditions"], steps=strategy["steps"])
    world.ingest({"id": "real", "event": "password_changed", "data": PASSWORD_EVENT})
    runtime.tick()
    runtime.services.clock.advance(hours=2, minutes=1)
    runtime.tick()
    assert (count(app_db, SmsMessage), count(app_db, MailMessage), len(fake_http.requests)) == (1, 1, 1)


def test_dry_run_of_a_saved_strategy_and_bad_inputs(api, world):
    sid = world.strategy()["id"]
    assert api.ok("POST", "/api/v1/strategies/test", {"strategy_id": sid, "sample": PASSWORD_EVENT})["matched"] is True
    assert_error(api.post("/api/v1/strategies/test", {"sample": PASSWORD_EVENT}), 400, "strategy_id")
    assert_error(api.post("/api/v1/strategies/test", {"strategy_id": 999999, "sample": {}}), 404, "999999")
    broken = world.strategy_body(conditions=[row("status", "eq", "1", lparen=1)])
    assert_error(api.post("/api/v1/strategies/test", {"strategy": broken, "sample": PASSWORD_EVENT}), 422, "第 1 行", "括号")
    failures = []
    for bad in ({"strategy_id": "abc", "sample": {}}, {"strategy_id": [1], "sample": {}},
                {"strategy_id": sid, "sample": [1]}, {"strategy_id": sid, "sample": "mobile"},
                {"strategy": {**world.strategy_body(), "steps": "sms"}, "sample": PASSWORD_EVENT},
                {"strategy": {**world.strategy_body(), "event_id": "x"}, "sample": PASSWORD_EVENT}):
        resp = api.post("/api/v1/strategies/test", bad)
        if resp.status_code not in (400, 404, 422) or "error" not in (resp.json or {}):
            failures.append((bad, resp.status_code))
    assert not failures, failures


def test_backtest_counts_stored_events(api, world, runtime):
    world.ingest({"events": [{"id": f"e{i}", "event": "password_changed",
                              "data": {**PASSWORD_EVENT, "status": str(i % 2)}} for i in range(6)]})
    runtime.services.clock.advance(seconds=1)  # the default period ends now, exclusive
    strategy = world.strategy_body()
    result = api.ok("POST", "/api/v1/strategies/backtest", {"strategy": strategy})
    assert (result["total"], result["matched"], result["ratio"]) == (6, 3, 0.5)
    assert len(result["examples"]) == 3 and result["truncated"] is False
    empty = api.ok("POST", "/api/v1/strategies/backtest", {"strategy": strategy, "since": "2026-11-21", "until": "2026-11-22"})
    assert (empty["total"], empty["matched"], empty["ratio"]) == (0, 0, 0.0)
    assert_error(api.post("/api/v1/strategies/backtest", {"strategy": strategy, "since": "上周"}), 400, "时间范围")
    assert_error(api.post("/api/v1/strategies/backtest", {"strategy_id": 999999}), 404, "999999")
    assert_error(api.post("/api/v1/strategies/backtest", {}), 400, "strategy")


def test_bundle_export_then_import_into_a_fresh_database(api, world, app_db, tmp_path, migrated_template, clock):
    import shutil

    from config.settings import Settings
    from web import create_app

    proc = api.ok("POST", "/api/v1/processors/definitions",
                  {"name": "CRM 回调", "method": "POST", "url": "https://crm.example.com/hook",
                   "body": '{"m": "${mobile}"}'}, 201)
    world.strategy(name="改密短信")
    world.strategy(name="回调", enabled=False, steps=[{"processor": proc["key"], "config": {}}])
    bundle = api.ok("POST", "/api/v1/bundles/export", {})
    assert bundle["format"] == "cunkebao.bundle/1" and len(bundle["strategies"]) == 2
    only_one = api.ok("POST", "/api/v1/bundles/export", {"strategy_ids": [1]})
    assert [s["name"] for s in only_one["strategies"]] == ["改密短信"] and len(only_one["events"]) == 1
    assert api.ok("POST", "/api/v1/bundles/export")["format"] == "cunkebao.bundle/1"  # body optional

    fresh_db = tmp_path / "fresh.db"
    shutil.copy(migrated_template, fresh_db)
    fresh_var = tmp_path / "fresh-var"
    fresh_var.mkdir()
    fresh = create_app(Settings(var_dir=fresh_var, database_url=f"sqlite:///{fresh_db}", secret_key="other",
                                run_background=False, secure_cookies=False), clock=clock)
    fresh.config.update(TESTING=True)
    try:
        other = Api(fresh.test_client(), token_for(fresh.extensions["ckb"].services.db, "root", [], is_admin=True))
        report = other.ok("POST", "/api/v1/bundles/import", bundle)
        assert report["refused"] == [] and "策略 改密短信" in report["created"] and "处理器 CRM 回调" in report["created"]
        imported = other.ok("GET", "/api/v1/strategies")["items"]
        assert {s["name"] for s in imported} == {"改密短信", "回调"} and not any(s["enabled"] for s in imported)
        again = other.ok("POST", "/api/v1/bundles/import", bundle)
        assert "策略 改密短信" in again["updated"] and again["created"] == []
        bad = other.ok("POST", "/api/v1/bundles/import", {"format": "zip"})
        assert bad["refused"][0]["item"] == "bundle" and "cunkebao.bundle/1" in bad["refused"][0]["reason"]
        partial = other.ok("POST", "/api/v1/bundles/import", {**bundle, "processors": [], "strategies": [
            {**bundle["strategies"][0], "name": "新策略", "event": "nope"}, {**bundle["strategies"][0], "name": "新策略2"}]})
        assert partial["refused"][0]["item"] == "策略 新策略" and "nope" in partial["refused"][0]["reason"]
        assert "策略 新策略2" in partial["created"]
        failures = []
        for shape in ({"events": {"code": "x"}}, {"events": ["x"]}, {"strategies": [5]}, {"processors": "abc"},
                      {"processors": [{"name": "无键"}]}, {"strategies": [{"name": "缺事件"}]}):
            resp = other.post("/api/v1/bundles/import", {"format": "cunkebao.bundle/1", **shape})
            if resp.status_code >= 500 or resp.status_code == 200 and not resp.json["refused"]:
                failures.append((shape, resp.status_code))
        assert not failures, failures
        assert count(fresh.extensions["ckb"].services.db, Strategy) == 3
    finally:
        fresh.extensions["ckb"].services.db.dispose()
