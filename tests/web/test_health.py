"""/healthz, /readyz and /metrics, and the 系统监控 page: readiness follows live heartbeats, the
metrics parse with prometheus-client's own parser and their counters move with traffic."""
from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.heartbeats import ProcessBeacon
from tests.web.api_helpers import PASSWORD, PASSWORD_EVENT, api, runtime, token_for, world  # noqa: F401 - fixtures


def _metrics(client, **kw) -> dict:
    resp = client.get("/metrics", **kw)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("text/plain; version=")
    out = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_healthz_answers_without_touching_anything(client):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json == {"status": "ok"}


def test_readyz_is_unavailable_without_a_live_worker_and_leader_then_ready(client, runtime):
    resp = client.get("/readyz")
    assert resp.status_code == 503
    body = resp.json
    assert body["status"] == "unavailable" and body["checks"]["database"]["ok"]
    assert not body["checks"]["workers"]["ok"] and "worker" in body["checks"]["workers"]["detail"]
    ProcessBeacon(runtime.services, "w:1:a", {"dispatch", "sweep"}).beat()
    ProcessBeacon(runtime.services, "s:1:b", {"cron", "sweep"}, is_leader=lambda: True).beat()
    resp = client.get("/readyz")
    assert resp.status_code == 200 and resp.json["status"] == "ok", resp.json
    runtime.services.clock.advance(seconds=60)
    assert client.get("/readyz").status_code == 503


def test_metrics_parse_and_their_counters_move_with_traffic(client, world, runtime):
    world.strategy()
    before = _metrics(client)
    stored = ("ckb_events_stored_total", (("source", "api"),))
    ok_steps = ("ckb_steps_total", (("state", "ok"),))
    assert world.ingest({"id": "m1", "event": "password_changed", "data": PASSWORD_EVENT}).status == 202
    mid = _metrics(client)
    assert mid[stored] == before.get(stored, 0) + 1
    assert mid[("ckb_event_queue_depth", ())] == 1
    runtime.tick()
    after = _metrics(client)
    assert after[ok_steps] == before.get(ok_steps, 0) + 1
    assert after[("ckb_event_queue_depth", ())] == 0
    assert after[("ckb_step_seconds_count", ())] >= before.get(("ckb_step_seconds_count", ()), 0) + 1
    assert after[("ckb_scheduler_leader_present", ())] == 0
    assert after[("ckb_processes_alive", (("kind", "worker"),))] == 0


def test_unsigned_requests_are_counted_by_reason(client):
    key = ("ckb_ingest_unauthenticated_total", (("code", "missing_auth"),))
    before = _metrics(client).get(key, 0)
    resp = client.post("/api/v1/events", data=b'{"event": "x", "data": {}}', headers={"Content-Type": "application/json"})
    assert resp.status_code == 401
    counted = {k: v for k, v in _metrics(client).items() if k[0] == "ckb_ingest_unauthenticated_total"}
    assert sum(counted.values()) >= before + 1, counted


def test_metrics_refuse_remote_callers_unless_they_bring_the_token(app, client):
    remote = {"environ_base": {"REMOTE_ADDR": "10.1.2.3"}}
    resp = client.get("/metrics", **remote)
    assert resp.status_code == 403 and resp.json["error"]["code"] == "forbidden"
    app.extensions["ckb"].settings.metrics_token = "s3cret-token"
    assert client.get("/metrics").status_code == 403  # once a token is set, loopback needs it too
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}, **remote).status_code == 403
    assert _metrics(client, headers={"Authorization": "Bearer s3cret-token"}, **remote)


def test_sysmon_page_lists_processes_checks_and_backlog(client, login, admin_user, runtime):
    ProcessBeacon(runtime.services, "host-a:42:aa", {"dispatch", "sweep"}, info={"held_steps": lambda: 2}).beat()
    ProcessBeacon(runtime.services, "host-b:43:bb", {"cron"}, is_leader=lambda: True).beat()
    runtime.services.clock.advance(seconds=120)
    ProcessBeacon(runtime.services, "host-c:44:cc", {"web"}).beat()
    login(client)
    html = client.get("/system/monitor").get_data(as_text=True)
    assert "系统监控" in html and "host-a:42:aa" in html and "host-c:44:cc" in html
    assert html.count('data-testid="process-失联"') == 2 and html.count('data-testid="process-正常"') == 1
    assert "未就绪" in html and "没有存活的事件分发进程" in html and "持有步骤 2" in html


def test_sysmon_page_needs_its_permission(app, app_db, admin_user, login):
    token_for(app_db, "sales1", ["sales"])
    client = app.test_client()
    login(client, "sales1", PASSWORD)
    assert client.get("/system/monitor").status_code == 403


@pytest.mark.browser
def test_sysmon_page_in_the_browser(page, browser_login, admin_user, runtime):
    ProcessBeacon(runtime.services, "web-1:7:aa", {"web", "dispatch", "sweep", "cron"}, is_leader=lambda: True,
                  info={"held_steps": lambda: 0, "gateway_connections": lambda: 3}).beat()
    browser_login()
    page.goto("/system/monitor")
    page.wait_for_selector("text=服务进程")
    assert page.locator("[data-testid='process-正常']").count() == 1
    assert page.locator("[data-testid=check-workers]").inner_text().count("正常") >= 1
    page.screenshot(path="/tmp/ckb_shots/sysmon.png", full_page=True)
