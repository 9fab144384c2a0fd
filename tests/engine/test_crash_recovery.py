"""Kill the worker (SIGKILL) with 1,000 delayed steps pending, restart it: each runs exactly once.

Real processes: `python -m web.cli worker` on the test database, killed mid-run.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from engine.models import StrategyTask
from handlers.models import SmsMessage
from tests.engine.conftest import row

pytestmark = pytest.mark.slow
TOTAL = 1000


def _count(svc, stmt) -> int:
    with svc.db.read() as s:
        return s.execute(stmt).scalar() or 0


def _worker(svc, name: str, command: str = "worker", args: tuple = (), **env) -> subprocess.Popen:
    """`python -m web.cli <command> <args>` on the test database; `env` adds or overrides CKB_* values."""
    env = {**os.environ, "CKB_DATABASE_URL": svc.settings.resolved_database_url(), "CKB_SECRET_KEY": "test-secret-key",
           "CKB_VAR_DIR": str(svc.settings.var_dir), "CKB_TASK_LEASE_SECONDS": "3",
           "CKB_SCHEDULER_SWEEP_SECONDS": "0.2", "CKB_ENGINE_USE_DURABLE_RULES": "true", **env}
    with open(svc.settings.var_dir / f"{name}.log", "wb") as log:
        return subprocess.Popen([sys.executable, "-m", "web.cli", command, *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)


def _log(svc, name: str) -> str:
    return (svc.settings.var_dir / f"{name}.log").read_text(errors="replace")[-2000:]


def _wait(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_sigkill_with_pending_steps_runs_each_exactly_once(kit):
    step = {"processor": "sms", "config": {"mobile": "${mobile}", "content": "第 ${customerName} 条"},
            "timing": {"mode": "delay", "hours": 1}}
    kit.strategy("password_changed", [row("status", "eq", "1")], [step])
    events = [{"id": f"e{i}", "event": "password_changed",
               "data": {"customerName": str(i), "mobile": f"138{i:08d}", "status": "1"}} for i in range(TOTAL)]
    assert len(kit.post({"events": events}).payload["accepted"]) == TOTAL
    kit.rt.tick()  # dispatched with the test's clock: due an hour after 2026-11-20, long past in real time
    svc = kit.svc
    assert _count(svc, select(func.count()).select_from(StrategyTask).where(StrategyTask.status == "pending")) == TOTAL

    first = _worker(svc, "first")
    started = _wait(lambda: _count(svc, select(func.count(SmsMessage.id))) >= 150, 60)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert started, _log(svc, "first")
    after_kill = _count(svc, select(func.count(SmsMessage.id)))
    assert after_kill < TOTAL, "the worker finished before it could be killed; raise TOTAL"

    second = _worker(svc, "second")
    try:
        done = _wait(lambda: _count(svc, select(func.count()).select_from(StrategyTask)
                                    .where(StrategyTask.status == "done")) == TOTAL, 120)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(10)
    assert done, _log(svc, "second")
    assert _count(svc, select(func.count(SmsMessage.id))) == TOTAL
    assert _count(svc, select(func.count(func.distinct(SmsMessage.idempotency_key)))) == TOTAL
    assert _count(svc, select(func.count()).select_from(StrategyTask).where(StrategyTask.status != "done")) == 0
