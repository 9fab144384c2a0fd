"""订单同步 (pull adapters) against a fake shop platform: a real HTTP server on 127.0.0.1 that pages
its orders by cursor, checks the app-key signature like the real one, and can be told to fail.
Covers cursor advance, has_more paging, one lead per order across runs, failure backoff 1→2→4
minutes and recovery, the manual 立即同步, refused orders in 线索死信, and credentials sealed at rest."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from config.clock import as_utc
from crm.leads import pull_state
from crm.leads.errors import LeadsError
from crm.leads.models import Lead, LeadDeadLetter, LeadScene, PullCursor, PullRun
from engine import lead_pull
from engine.crm_wiring import all_cron_jobs
from engine.lead_scenes import save_scene
from handlers.registry import default_registry
from tests.support import with_settings

APP_KEY, APP_SECRET = "shop-key-1", "shop-secret-不要泄露"


class FakeShop:
    """订单平台: orders in arrival order; the cursor is the index of the next order. `fail(...)`
    queues failures ("500", "badjson", "slow", "stuck") served before the next real pages."""

    def __init__(self, clock, page_cap: int = 1000):
        self.clock = clock
        self.page_cap = page_cap
        self.orders: list[dict] = []
        self.failures: list[str] = []
        self.calls: list[dict] = []
        self._lock = threading.Lock()
        self._server = None

    def add(self, count: int, start: int = 1, **extra) -> None:
        for n in range(start, start + count):
            self.orders.append({"order_no": f"SO{n:05d}", "buyer_name": f"买家{n}",
                                "buyer_phone": f"139{n:08d}", "total_amount": 199 + n, **extra})

    def fail(self, *modes: str) -> None:
        self.failures.extend(modes)

    # the platform's side of the protocol
    def verify(self, headers, cursor: str) -> str:
        if headers.get("X-App-Key") != APP_KEY:
            return "unknown app key"
        ts = headers.get("X-Timestamp", "")
        if not ts.isdigit() or abs(int(ts) - self.clock.now().timestamp()) > 300:
            return "stale timestamp"
        expected = hmac.new(APP_SECRET.encode(), f"{ts}.{cursor}".encode(), hashlib.sha256).hexdigest()
        return "" if hmac.compare_digest(expected, headers.get("X-Sign", "")) else "bad signature"

    def answer(self, path: str, headers) -> tuple[int, bytes]:
        query = parse_qs(urlsplit(path).query)
        cursor = query.get("cursor", [""])[0]
        with self._lock:
            self.calls.append({"cursor": cursor, "limit": query.get("limit", [""])[0], "headers": dict(headers)})
            mode = self.failures.pop(0) if self.failures else ""
        if mode == "500":
            return 500, json.dumps({"message": "服务繁忙"}).encode()
        if mode == "badjson":
            return 200, b"<html>maintenance</html>"
        if mode == "slow":
            time.sleep(1.5)
        if mode == "stuck":
            return 200, json.dumps({"items": [], "next_cursor": cursor, "has_more": True}).encode()
        problem = self.verify(headers, cursor)
        if problem:
            return 401, json.dumps({"message": problem}).encode()
        start = int(cursor or 0)
        limit = min(int(query.get("limit", ["100"])[0]), self.page_cap)
        items = self.orders[start:start + limit]
        end = start + len(items)
        return 200, json.dumps({"items": items, "next_cursor": str(end), "has_more": end < len(self.orders)},
                               ensure_ascii=False).encode()

    # lifecycle
    def start(self) -> "FakeShop":
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                status, body = shop.answer(self.path, self.headers)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/open/orders"


@pytest.fixture
def shop(clock):
    server = FakeShop(clock).start()
    yield server
    server.stop()


@pytest.fixture
def svc(services):
    # The fake platform lives on loopback, which the SSRF guard refuses unless allow-listed.
    return with_settings(services, http_allow_private_hosts=["127.0.0.1"], http_default_timeout_seconds=0.5)


def make_scene(svc, shop, *, page_size=2, credentials=None, key="shop_orders", **pull):
    with svc.db.write() as s:
        scene, _ = save_scene(s, {
            "name": f"有赞订单 {key}", "key": key, "scene_type": "ORDER_SYNC", "dedup_strategy": "BY_PHONE",
            "params": {"pull": {"enabled": True, "kind": "orders", "endpoint": shop.url, "page_size": page_size,
                                "interval_minutes": 5, **pull}},
            "credentials": credentials if credentials is not None else {"app_key": APP_KEY, "app_secret": APP_SECRET},
        }, registry=default_registry(svc), box=svc.secret_box)
        return scene.id


def leads(svc, scene_id) -> list[Lead]:
    with svc.db.read() as s:
        return list(s.scalars(select(Lead).where(Lead.scene_id == scene_id).order_by(Lead.id)))


def cursor_row(svc, scene_id) -> PullCursor:
    with svc.db.read() as s:
        return s.get(PullCursor, scene_id)


def test_pages_are_followed_and_the_cursor_advances(svc, shop):
    shop.add(5)
    scene_id = make_scene(svc, shop, page_size=2)
    run = lead_pull.sync_now(svc, scene_id)
    assert (run.ok, run.fetched, run.created, run.duplicates, run.rejected, run.trigger) == (True, 5, 5, 0, 0, "manual")
    assert [c["cursor"] for c in shop.calls] == ["", "2", "4"]
    assert {c["limit"] for c in shop.calls} == {"2"}
    got = leads(svc, scene_id)
    assert [lead.external_id for lead in got] == [f"SO{n:05d}" for n in range(1, 6)]
    assert (got[0].name, got[0].mobile, got[0].value) == ("买家1", "13900000001", 200)
    assert got[0].raw_data["order_no"] == "SO00001"
    state = cursor_row(svc, scene_id)
    assert (state.cursor, state.failures, state.last_error) == ("5", 0, "")
    assert as_utc(state.next_run_at) == svc.now() + timedelta(minutes=5)

    shop.add(2, start=6)  # the next run starts where the last one stopped
    run = lead_pull.sync_now(svc, scene_id, trigger="schedule")
    assert (run.fetched, run.created, run.trigger) == (2, 2, "schedule")
    assert shop.calls[-1]["cursor"] == "5"
    assert cursor_row(svc, scene_id).cursor == "7"


def test_the_same_order_twice_is_one_lead(svc, shop):
    shop.add(3)
    scene_id = make_scene(svc, shop, page_size=10)
    lead_pull.sync_now(svc, scene_id)
    with svc.db.write() as s:  # the platform re-sends from the start (a cursor reset on its side)
        s.get(PullCursor, scene_id).cursor = ""
    shop.add(1, start=4)
    run = lead_pull.sync_now(svc, scene_id)
    assert (run.fetched, run.created, run.duplicates) == (4, 1, 3)
    assert len(leads(svc, scene_id)) == 4


def test_failures_back_off_1_2_4_minutes_then_recover(svc, shop, clock):
    shop.add(3)
    scene_id = make_scene(svc, shop, page_size=10)
    shop.fail("500", "badjson", "slow")
    expected = [(1, "平台返回 HTTP 500：服务繁忙"), (2, "平台返回的内容不是有效的 JSON"), (4, "超时")]
    for failures, (minutes, reason) in enumerate(expected, 1):
        assert lead_pull.run_due(svc).startswith(f"场景 {scene_id} 同步失败")
        state = cursor_row(svc, scene_id)
        assert (state.failures, state.cursor) == (failures, "")
        assert reason in state.last_error
        assert as_utc(state.next_run_at) == clock.now() + timedelta(minutes=minutes)
        assert lead_pull.run_due(svc) == "没有到期的平台同步"  # not due before the backoff ends
        clock.advance(minutes=minutes)
    assert leads(svc, scene_id) == []
    assert "新线索 3" in lead_pull.run_due(svc)
    state = cursor_row(svc, scene_id)
    assert (state.failures, state.last_error, state.cursor) == (0, "", "3")
    with svc.db.read() as s:
        runs = pull_state.list_runs(s, scene_id)
    assert [r.ok for r in runs] == [True, False, False, False]
    assert all(r.finished_at is not None and r.trigger == "schedule" for r in runs)


def test_backoff_is_capped_at_an_hour():
    assert [pull_state.backoff_minutes(n) for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_later_page_failing_keeps_the_pages_already_stored(svc, shop):
    shop.add(4)
    scene_id = make_scene(svc, shop, page_size=2)
    lead_pull.sync_now(svc, scene_id)  # 2 pages
    shop.add(4, start=5)
    shop.fail("stuck")
    run = lead_pull.sync_now(svc, scene_id)
    assert not run.ok and "游标没有前进" in run.error
    assert cursor_row(svc, scene_id).cursor == "4"


def test_bad_credentials_fail_with_the_platform_reason(svc, shop):
    shop.add(1)
    scene_id = make_scene(svc, shop, credentials={"app_key": APP_KEY, "app_secret": "wrong"})
    run = lead_pull.sync_now(svc, scene_id)
    assert (run.ok, run.error) == (False, "平台返回 HTTP 401（凭证无效或已过期）：bad signature")
    scene_id = make_scene(svc, shop, credentials={}, key="no_creds")
    assert "未配置平台凭证" in lead_pull.sync_now(svc, scene_id).error


def test_bearer_token_credentials(svc, shop):
    shop.add(1)
    scene_id = make_scene(svc, shop, credentials={"access_token": "tok-123"})
    lead_pull.sync_now(svc, scene_id)
    assert shop.calls[0]["headers"]["Authorization"] == "Bearer tok-123"
    assert "X-Sign" not in shop.calls[0]["headers"]


def test_refused_orders_go_to_dead_letters(svc, shop):
    shop.orders += [{"order_no": "SO1", "buyer_name": "张三", "buyer_phone": "12345"},
                    {"buyer_name": "没有单号", "buyer_phone": "13900000009"},
                    {"order_no": "SO3", "buyer_name": "李四", "buyer_phone": "13900000003"}]
    scene_id = make_scene(svc, shop, page_size=10)
    run = lead_pull.sync_now(svc, scene_id)
    assert (run.ok, run.fetched, run.created, run.rejected) == (True, 3, 1, 2)
    with svc.db.read() as s:
        dead = list(s.scalars(select(LeadDeadLetter).order_by(LeadDeadLetter.id)))
    assert [(d.source, d.scene_id) for d in dead] == [("pull", scene_id)] * 2
    reasons = " ".join(d.reason for d in dead)
    assert "缺少订单同步的唯一编号 order_no" in reasons and "手机号" in reasons
    assert dead[0].payload["raw"]["buyer_name"] in ("张三", "没有单号")


def test_credentials_are_sealed_at_rest(svc, shop):
    scene_id = make_scene(svc, shop)
    with svc.db.engine.connect() as conn:
        row = conn.execute(select(LeadScene.__table__).where(LeadScene.__table__.c.id == scene_id)).mappings().one()
    stored = json.dumps({k: str(v) for k, v in row.items()}, ensure_ascii=False)
    assert APP_SECRET not in stored and APP_KEY not in stored
    assert row["credentials_sealed"]


def test_manual_sync_refuses_scenes_that_do_not_poll_and_runs_in_progress(svc, shop, clock):
    scene_id = make_scene(svc, shop, enabled=False)
    with pytest.raises(LeadsError, match="未开启平台同步"):
        lead_pull.sync_now(svc, scene_id)
    other = make_scene(svc, shop, key="open_scene")
    with svc.db.write() as s:
        pull_state.start_run(s, other, "schedule", clock.now())
    with pytest.raises(LeadsError, match="正在同步中"):
        lead_pull.sync_now(svc, other)
    clock.advance(minutes=16)  # a run cut off by a crash stops blocking after its lease
    assert lead_pull.sync_now(svc, other).ok


def test_the_cron_job_is_registered(settings):
    jobs = {j.key: j for j in all_cron_jobs(settings)}
    assert jobs["lead_pull"].cron == {"minute": "*"}


def test_pull_settings_are_checked():
    with pytest.raises(LeadsError) as info:
        pull_state.clean_pull_params({"enabled": True, "kind": "ftp", "endpoint": "ftp://x", "page_size": 0,
                                      "interval_minutes": "x"})
    assert set(info.value.errors) == {"pull.kind", "pull.endpoint", "pull.page_size", "pull.interval_minutes"}
    clean = pull_state.clean_pull_params({"enabled": "1", "endpoint": "https://shop.example/api/orders"})
    assert clean == {"enabled": True, "kind": "orders", "endpoint": "https://shop.example/api/orders",
                     "page_size": 100, "interval_minutes": 5}


def test_only_due_scenes_run(svc, shop, clock):
    shop.add(1)
    first = make_scene(svc, shop)
    second = make_scene(svc, shop, key="second_shop")
    lead_pull.sync_now(svc, first)
    with svc.db.read() as s:
        assert pull_state.due_scene_ids(s, clock.now()) == [second]
        assert s.scalar(select(func.count()).select_from(PullRun)) == 1
