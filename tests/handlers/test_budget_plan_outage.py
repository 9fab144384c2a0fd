"""A frozen Redis under the steps that decide what to send while they hold the write transaction
(workbench templates, 流量分发): their budget decisions are taken before that transaction, so an
event ingested while they wait on Redis is recorded at once, and the outage defers the step
without spending an attempt (no command, no counter moved)."""
from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from sqlmodel import select

from devices.models import BudgetCounter
from engine.models import StepAttempt
from engine.runtime import Runtime
from events.definitions import create_definition
from tests.devices.budget.conftest import make_account
from tests.devices.budget.engine_kit import DeviceKit
from tests.engine.conftest import Kit, engine_services  # noqa: F401 - fixtures
from tests.support.frozen_redis import frozen_redis

TIMEOUT = 1.5
PING = "test.ping"


@pytest.fixture
def frozen_kit(engine_services):
    with frozen_redis(TIMEOUT) as client:
        svc = dataclasses.replace(engine_services, redis=client)
        runtime = Runtime(svc)
        kit = Kit(runtime)
        with svc.db.write() as s:
            create_definition(s, {"name": "心跳（测试）", "code": PING,
                                  "fields": [{"name": "n", "type": "number", "label": "n"}]})
        yield DeviceKit(kit)
        runtime.stop()


def _run_while_ingesting(dk: DeviceKit, key: str, config: dict, data: dict):
    """Runs one step while another thread ingests events; returns the task and the ingest times."""
    waits, done = [], threading.Event()

    def ingest():
        n = 0
        while not done.is_set():
            n += 1
            t0 = time.monotonic()
            result = dk.kit.post({"event": PING, "id": f"ping-{key}-{n}", "data": {"n": n}})
            waits.append(time.monotonic() - t0)
            assert result is not None
            time.sleep(0.05)

    thread = threading.Thread(target=ingest, daemon=True)
    thread.start()
    try:
        task = dk.run(key, config, data)
    finally:
        done.set()
        thread.join(10)
    return task, waits


def _assert_deferred_untouched(dk: DeviceKit, task, waits: list[float]) -> None:
    assert len(waits) >= 3 and max(waits) < TIMEOUT / 2, waits  # nobody waited on Redis behind the write lock
    assert task.status == "pending" and task.attempts == 0, (task.status, task.attempts, task.last_error)
    assert "Redis" in task.note and dk.commands() == []
    with dk.svc.db.read() as s:
        states = [a.state for a in s.exec(select(StepAttempt).where(StepAttempt.task_id == task.id))]
        counters = s.exec(select(BudgetCounter).where(BudgetCounter.scope.like("wb:%"))).all()
    assert states == ["deferred"]
    assert [c for c in counters if c.count] == []  # the step's own tallies rolled back with it


def test_a_workbench_step_defers_and_ingestion_is_not_held_up(frozen_kit):
    config = {"rules": [{"keyword": "价格", "reply": "您好，价格请看群公告"}], "cooldown_minutes": 30}
    task, waits = _run_while_ingesting(frozen_kit, "workbench.keyword_reply", config,
                                       {"text": "请问价格多少", "account_wxid": "wxid_ops1"})
    _assert_deferred_untouched(frozen_kit, task, waits)


def test_a_distribute_step_defers_and_ingestion_is_not_held_up(frozen_kit):
    target = make_account(frozen_kit.svc, wxid="wxid_ops2")
    config = {"targets": [{"id": target, "weight": 1}], "target_kind": "account", "mode": "ratio",
              "start_time": "00:00", "end_time": "24:00", "min_health": 0}
    task, waits = _run_while_ingesting(frozen_kit, "device.distribute", config, {"wxid": "wxid_lead1"})
    _assert_deferred_untouched(frozen_kit, task, waits)
