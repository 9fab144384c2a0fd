"""Issue 15, engine side: pure steps settled by the dispatcher in its own transaction (order and
retry waits kept), a worker woken by events another process stored (not by its poll), and
several workers on one database claiming disjoint work (no step run twice)."""
from __future__ import annotations

import copy
import dataclasses
import threading
import time
from collections import Counter

from sqlmodel import select

from config.db import Database
from engine.models import StepAttempt, StrategyTask
from engine.runtime import Runtime
from events.models import EventRecord
from handlers.base import Outcome, Processor
from handlers.errors import RetryableError
from tests.engine.conftest import row
from tests.support import with_settings


class Probe(Processor):
    """Records every call (idempotency key, task id) and does what `behave` says."""

    key = "probe"
    name = "探针"

    def __init__(self, behave=lambda ctx: Outcome(), key: str = "probe", inline: bool = False):
        self.behave, self.key, self.inline = behave, key, inline
        self.external = not inline
        self.calls: list[tuple[str, object]] = []
        self._lock = threading.Lock()

    def render(self, ctx, config):
        return {}

    def run(self, ctx, config):
        with self._lock:
            self.calls.append((ctx.idempotency_key, ctx.task_id))
        return self.behave(ctx)


def _post(kit, n: int, tag: str = "e") -> None:
    events = [{"id": f"{tag}{i}", "event": "password_changed",
               "data": {"customerName": str(i), "mobile": "13800138000", "status": "1"}} for i in range(n)]
    assert len(kit.post({"events": events}).payload["accepted"]) == n


def _tasks(svc) -> list[StrategyTask]:
    with svc.db.read() as s:
        return list(s.exec(select(StrategyTask).order_by(StrategyTask.event_record_id, StrategyTask.step_index)))


def _attempts(svc) -> dict[int, list[StepAttempt]]:
    out: dict[int, list[StepAttempt]] = {}
    with svc.db.read() as s:
        for a in s.exec(select(StepAttempt).order_by(StepAttempt.task_id, StepAttempt.number)):
            out.setdefault(a.task_id, []).append(a)
    return out


def _wait(predicate, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def _step(key: str, **timing) -> dict:
    return {"processor": key, "config": {"message": "客户 ${customerName}"} if key == "log" else {},
            "timing": timing or {"mode": "immediate"}}


def test_pure_steps_are_recorded_finished_by_the_dispatch_itself(kit):
    kit.strategy("password_changed", [row("status", "eq", "1")], [_step("log"), _step("log")])
    _post(kit, 3)
    count, handed = kit.rt.dispatcher.run_once()
    assert count == 3 and handed == []  # nothing left for the executor
    tasks, attempts = _tasks(kit.svc), _attempts(kit.svc)
    assert [(t.status, t.attempts, t.lease_owner) for t in tasks] == [("done", 1, "")] * 6
    assert all(t.finished_at is not None and t.rendered["message"].startswith("客户 ") for t in tasks)
    assert [[(a.number, a.state, a.ok, a.worker) for a in attempts[t.id]] for t in tasks] == \
        [[(1, "ok", True, kit.rt.owner)]] * 6


def test_a_pure_step_to_be_retried_holds_back_the_rest_of_its_run(kit, clock):
    failures = iter([RetryableError("稍后再试")])

    def first_fails(ctx):
        error = next(failures, None)
        if error is not None:
            raise error
        return Outcome()

    pure = kit.rt.registry.register(Probe(first_fails, key="pure", inline=True), replace=True)
    after = kit.rt.registry.register(Probe(key="after"), replace=True)
    kit.strategy("password_changed", [row("status", "eq", "1")], [_step("pure"), _step("after"), _step("log")])
    _post(kit, 1)
    kit.rt.tick()
    first, second, third = _tasks(kit.svc)
    assert (first.status, first.attempts) == ("failed", 1) and pure.calls == [(first.idempotency_key, None)]
    assert second.status == third.status == "pending" and after.calls == []
    assert second.note == third.note == "等待步骤 1 重试完成后执行" and second.due_at > first.due_at
    clock.advance(seconds=60)
    kit.rt.tick()
    assert [t.status for t in _tasks(kit.svc)] == ["done"] * 3
    assert [key for key, _ in pure.calls + after.calls] == [first.idempotency_key] * 2 + [second.idempotency_key]


def test_a_step_with_effects_after_pure_ones_goes_to_the_executor_in_order(kit):
    after = kit.rt.registry.register(Probe(key="after"), replace=True)
    kit.strategy("password_changed", [row("status", "eq", "1")], [_step("log"), _step("after"), _step("log")])
    _post(kit, 2)
    count, handed = kit.rt.dispatcher.run_once()
    assert [(task.step_index, task.status) for task, _ in handed] == [(1, "running"), (2, "running")] * 2
    kit.rt.executor.execute_claimed(handed)
    assert [t.status for t in _tasks(kit.svc)] == ["done"] * 6
    assert all(task_id is not None for _, task_id in after.calls) and len(after.calls) == 2


def _other_process(kit, engine_services):
    """A second runtime on its own connections, standing for another process (web or worker)."""
    rt = Runtime(dataclasses.replace(engine_services, db=Database(engine_services.settings.resolved_database_url())))
    other = copy.copy(kit)
    other.rt, other.svc = rt, rt.services
    return other


def _dispatched(svc) -> int:
    with svc.db.read() as s:
        return len(s.exec(select(EventRecord.id).where(EventRecord.dispatch_status == "done")).all())


def test_a_worker_is_woken_by_events_another_process_stored_not_by_its_poll(kit, engine_services):
    kit.strategy("password_changed", [row("status", "eq", "1")], [_step("log")])
    web = _other_process(kit, engine_services)
    worker = kit.rt
    worker.idle_poll_seconds = 600  # the fallback poll never comes within the test
    worker.start(dispatch=True, sweep=False, cron=False)
    try:
        if worker.services.db.is_postgres:
            assert worker.stored_signal.listening.wait(30)
        time.sleep(0.2)  # the dispatch loop has found nothing and is waiting
        for n in range(3):  # each time idle again, each time woken
            _post(web, 1, tag=f"w{n}-")
            assert _wait(lambda: _dispatched(kit.svc) == n + 1), f"event {n} not dispatched"
    finally:
        worker.stop(drain_seconds=5)
        web.svc.db.dispose()
    assert [t.status for t in _tasks(kit.svc)] == ["done"] * 3


def test_two_workers_claim_disjoint_work_and_run_no_step_twice(kit, engine_services, clock):
    """Two worker processes (own connections, shared database): immediate steps claimed by the
    dispatch of each, delayed ones by the sweep of each; every step runs exactly once."""
    probe = kit.rt.registry.register(Probe(), replace=True)
    kit.strategy("password_changed", [row("status", "eq", "1")],
                 [_step("log"), _step("probe"), _step("probe", mode="delay", hours=1)])
    second = _other_process(kit, with_settings(engine_services, scheduler_sweep_seconds=0.05))
    workers = [kit.rt, second.rt]
    for rt in workers:
        rt.registry.register(probe, replace=True)
        rt.strategies.refresh(force=True)
        rt.start(dispatch=True, sweep=True, cron=False)
    total = 120
    try:
        for batch in range(4):
            _post(kit, total // 4, tag=f"b{batch}-")
        assert _wait(lambda: len(probe.calls) == total, 120), len(probe.calls)
        clock.advance(hours=2)  # the delayed steps are due: both sweeps race for them
        assert _wait(lambda: len(probe.calls) == 2 * total, 120), len(probe.calls)
        assert _wait(lambda: all(t.status == "done" for t in _tasks(kit.svc)), 60)
    finally:
        for rt in workers:
            rt.stop(drain_seconds=5)
        second.svc.db.dispose()
    ran = Counter(key for key, _ in probe.calls)
    assert len(ran) == 2 * total and set(ran.values()) == {1}
    tasks, attempts = _tasks(kit.svc), _attempts(kit.svc)
    assert len(tasks) == 3 * total and all(len(attempts[t.id]) == 1 and t.attempts == 1 for t in tasks)


def test_a_pure_step_outcome_the_database_refuses_is_stored_scrubbed(kit):
    """A lone surrogate or a NUL in one step's outcome must not fail its whole dispatch batch."""
    kit.rt.registry.register(Probe(lambda ctx: Outcome(request={"text": "坏\ud800字\x00"}, note="坏\ud800"),
                                   key="pure", inline=True), replace=True)
    kit.strategy("password_changed", [row("status", "eq", "1")], [_step("pure"), _step("log")])
    _post(kit, 2)
    kit.rt.tick()
    tasks = _tasks(kit.svc)
    assert [t.status for t in tasks] == ["done"] * 4
    assert tasks[0].rendered == {"text": "坏?字"} and tasks[0].note == "坏?"
