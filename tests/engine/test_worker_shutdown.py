"""Real worker processes sending real HTTP: kill -9 re-sends only the steps that were in flight
(each shown as 中断 in history) and a restarted worker takes over well inside a minute; SIGTERM
drains — no step is sent twice, nothing stays claimed, the process is gone within 30 s — and a
stopping scheduler releases its leader lease at once."""
from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from engine.leader import LeaderLease
from engine.models import StepAttempt, StrategyTask
from handlers.definitions import create_definition
from tests.engine.conftest import row
from tests.engine.test_crash_recovery import _count, _log, _wait, _worker
from tests.support.fake_http import Reply

pytestmark = pytest.mark.slow
TOTAL = 300
ALLOW_LOOPBACK = {"CKB_HTTP_ALLOW_PRIVATE_HOSTS": json.dumps(["127.0.0.1"])}


def _http_steps(kit, fake_http) -> None:
    """TOTAL delayed HTTP steps, due (an hour after the test clock's 2026) long ago in real time."""
    fake_http.always("/hook", Reply(200, body={"ok": True}, delay=0.05))
    proc = create_definition(kit.svc.db, {"name": "回调", "method": "POST", "url": fake_http.url("/hook"),
                                          "body": '{"n": "${customerName}"}'})
    kit.strategy("password_changed", [row("status", "eq", "1")],
                 [{"processor": proc.key, "config": {}, "timing": {"mode": "delay", "hours": 1}}])
    events = [{"id": f"e{i}", "event": "password_changed",
               "data": {"customerName": str(i), "mobile": "13800138000", "status": "1"}} for i in range(TOTAL)]
    assert len(kit.post({"events": events}).payload["accepted"]) == TOTAL
    kit.rt.tick()


def _statuses(svc) -> Counter:
    with svc.db.read() as s:
        return Counter(dict(s.execute(select(StrategyTask.status, func.count()).group_by(StrategyTask.status)).all()))


def _attempt_states(svc) -> dict[str, list[str]]:
    """Idempotency key → the states of its attempts, in order."""
    with svc.db.read() as s:
        rows = s.execute(select(StrategyTask.idempotency_key, StepAttempt.state)
                         .join(StepAttempt, StepAttempt.task_id == StrategyTask.id)
                         .order_by(StepAttempt.task_id, StepAttempt.number)).all()
    out: dict[str, list[str]] = {}
    for key, state in rows:
        out.setdefault(key, []).append(state)
    return out


def _delivered(fake_http) -> Counter:
    return Counter(r.headers.get("Idempotency-Key") for r in fake_http.requests_to("/hook"))


def _terminate(process, timeout: float = 35):
    """SIGTERM and the exit code; a process that does not stop in time is killed (never left behind)."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        return None


def _all_done(svc) -> bool:
    return _statuses(svc).get("done", 0) == TOTAL


def test_kill_9_resends_only_the_steps_in_flight_and_recovers_inside_a_minute(kit, fake_http):
    _http_steps(kit, fake_http)
    svc = kit.svc
    first = _worker(svc, "first", CKB_TASK_LEASE_SECONDS="30", **ALLOW_LOOPBACK)
    started = _wait(lambda: len(fake_http.requests_to("/hook")) >= 60, 60)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert started, _log(svc, "first")
    assert not _all_done(svc), "the worker finished before it could be killed; raise TOTAL"

    restarted_at = time.monotonic()
    second = _worker(svc, "second", CKB_TASK_LEASE_SECONDS="30", **ALLOW_LOOPBACK)
    try:
        done = _wait(lambda: _all_done(svc), 90)
        recovered_in = time.monotonic() - restarted_at
    finally:
        _terminate(second)
    assert done, _log(svc, "second")
    assert recovered_in < 60, recovered_in

    delivered, states = _delivered(fake_http), _attempt_states(svc)
    assert set(delivered) == set(states) and len(states) == TOTAL
    twice = {key for key, n in delivered.items() if n > 1}
    assert len(twice) <= 4  # at most the executor threads' steps in flight at the kill
    for key, n in delivered.items():
        assert states[key][-1] == "ok" and states[key].count("ok") == 1
        assert n <= len(states[key])  # every delivery is an attempt in history
        if n > 1:
            assert states[key][:-1] == ["interrupted"] * (len(states[key]) - 1)
    interrupted = {key for key, s in states.items() if "interrupted" in s}
    assert twice <= interrupted and len(interrupted) <= 4


def test_sigterm_drains_without_sending_anything_twice(kit, fake_http):
    _http_steps(kit, fake_http)
    svc = kit.svc
    first = _worker(svc, "first", CKB_TASK_LEASE_SECONDS="30", **ALLOW_LOOPBACK)
    started = _wait(lambda: len(fake_http.requests_to("/hook")) >= 60, 60)
    signalled = time.monotonic()
    code = _terminate(first)
    stopped_in = time.monotonic() - signalled
    assert started, _log(svc, "first")
    assert code == 0 and stopped_in < 30, (code, stopped_in, _log(svc, "first"))
    statuses = _statuses(svc)
    assert statuses.get("running", 0) == 0, statuses  # finished or handed back, nothing left claimed
    assert statuses.get("done", 0) < TOTAL, "the worker finished before SIGTERM; raise TOTAL"
    assert _count(svc, select(func.count()).select_from(StepAttempt)
                  .where(StepAttempt.state.in_(("running", "interrupted")))) == 0

    second = _worker(svc, "second", CKB_TASK_LEASE_SECONDS="30", **ALLOW_LOOPBACK)
    try:
        done = _wait(lambda: _all_done(svc), 60)  # handed back: claimable at once, no lease to wait out
    finally:
        _terminate(second)
    assert done, _log(svc, "second")
    delivered = _delivered(fake_http)
    assert len(delivered) == TOTAL and set(delivered.values()) == {1}
    assert all(states == ["ok"] for states in _attempt_states(svc).values())


def _lease_free(svc) -> bool:
    """Whether anyone holds the scheduler lease (a fresh probe each time: on PostgreSQL a session
    that once took the advisory lock would keep answering yes to itself)."""
    probe = LeaderLease(svc, "probe")
    try:
        return probe.acquire()
    finally:
        probe.release()


def _stops_and_frees_the_lease(svc, process, name: str) -> None:
    try:
        assert _wait(lambda: not _lease_free(svc), 60), _log(svc, name)  # it leads
        signalled = time.monotonic()
        assert _terminate(process) == 0 and time.monotonic() - signalled < 30, _log(svc, name)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    assert _lease_free(svc), "the lease was left to expire instead of being released"


def test_a_stopping_scheduler_releases_its_leader_lease(kit):
    _stops_and_frees_the_lease(kit.svc, _worker(kit.svc, "scheduler", command="scheduler"), "scheduler")


def test_serve_drains_on_sigterm_and_releases_the_leader_lease(kit):
    """gunicorn used to exit without stopping the runtime: claims abandoned, lease left to expire."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = _worker(kit.svc, "serve", command="serve", args=("--port", str(port), "--threads", "2"))
    _stops_and_frees_the_lease(kit.svc, server, "serve")
