"""A step's start and outcome are recorded per step: before the processor runs there is a
"running" attempt on disk, a crash leaves it visible as 中断, one refused outcome never strands
its batch, a deferral spends no attempt, and a process never takes back a step it still holds."""
from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

import pytest
from sqlmodel import select

from config.clock import SystemClock
from engine.ledger import extend_leases
from engine.models import StepAttempt, StrategyTask
from engine.runtime import Runtime
from handlers.base import Outcome, Processor
from handlers.definitions import create_definition
from handlers.errors import DeferStep, PermanentError
from tests.engine.conftest import Kit, row
from tests.support import with_settings
from tests.support.fake_http import Reply


class Probe(Processor):
    """A processor whose behaviour each test scripts: behave(ctx) -> Outcome (or raises)."""

    key = "probe"
    name = "探针"

    def __init__(self, behave):
        self.behave = behave

    def render(self, ctx, config):
        return {}

    def run(self, ctx, config):
        return self.behave(ctx)


class Crash(BaseException):
    """Stands for the process dying mid-step: nothing after the processor call happens."""


def _probe_strategy(kit, behave, registry=None) -> None:
    (registry or kit.rt.registry).register(Probe(behave), replace=True)
    kit.strategy("password_changed", [row("status", "eq", "1")], [{"processor": "probe", "config": {},
                                                                    "timing": {"mode": "immediate"}}])


def _post(kit, n: int) -> None:
    events = [{"id": f"e{i}", "event": "password_changed", "data": {"customerName": str(i), "mobile": "13800138000", "status": "1"}}
              for i in range(n)]
    assert len(kit.post({"events": events}).payload["accepted"]) == n


def _tasks(svc) -> list[StrategyTask]:
    with svc.db.read() as s:
        return list(s.exec(select(StrategyTask).order_by(StrategyTask.id)))


def _attempts(svc, task_id: int) -> list[StepAttempt]:
    with svc.db.read() as s:
        return list(s.exec(select(StepAttempt).where(StepAttempt.task_id == task_id).order_by(StepAttempt.number)))


def test_the_start_is_on_disk_before_the_processor_runs(kit):
    seen = []

    def behave(ctx):
        seen.append([(a.state, a.finished_at) for a in _attempts(kit.svc, ctx.task_id)])
        seen.append(_tasks(kit.svc)[0].attempts)
        return Outcome(response={"ok": True})

    _probe_strategy(kit, behave)
    _post(kit, 1)
    kit.rt.tick()
    assert seen == [[("running", None)], 1]
    task = _tasks(kit.svc)[0]
    assert task.status == "done" and task.attempts == 1
    assert [(a.state, a.ok) for a in _attempts(kit.svc, task.id)] == [("ok", True)]
    assert _attempts(kit.svc, task.id)[0].worker == kit.rt.owner


class LocalProbe(Probe):
    external = False


def test_a_local_processor_does_not_wait_for_its_start_but_every_attempt_is_recorded(kit):
    """Only effects leaving the database pay a commit before they start; a local one's start
    and outcome ride on one group commit (bench/ingest.py's log steps)."""
    seen = []

    def behave(ctx):
        seen.append(len(_attempts(kit.svc, ctx.task_id)))
        return Outcome()

    kit.rt.registry.register(LocalProbe(behave), replace=True)
    kit.strategy("password_changed", [row("status", "eq", "1")],
                 [{"processor": "probe", "config": {}, "timing": {"mode": "immediate"}}])
    _post(kit, 3)
    kit.rt.tick()
    assert seen[1:] == [0, 0]  # (the first may ride on a flush of what waited longer than 0.2 s)
    tasks = _tasks(kit.svc)
    assert [(t.status, t.attempts) for t in tasks] == [("done", 1)] * 3
    assert all([a.state for a in _attempts(kit.svc, t.id)] == ["ok"] for t in tasks)


def test_outcomes_are_recorded_step_by_step_not_at_the_end_of_the_batch(kit):
    """Step 3 of a batch sees steps 1 and 2 already done on disk (a crash now re-runs only step 3)."""
    seen = {}

    def behave(ctx):
        seen[ctx.data["customerName"]] = sorted(t.status for t in _tasks(kit.svc))
        return Outcome()

    _probe_strategy(kit, behave)
    _post(kit, 3)
    kit.rt.tick()
    assert seen["2"] == ["done", "done", "running"]


def test_a_crash_mid_step_leaves_an_interrupted_attempt_and_the_rerun_is_shown_too(kit, clock):
    keys = []

    def dies(ctx):
        keys.append(ctx.idempotency_key)
        raise Crash()

    _probe_strategy(kit, dies)
    _post(kit, 1)
    with pytest.raises(Crash):
        kit.rt.tick()
    task = _tasks(kit.svc)[0]
    assert task.status == "running" and task.attempts == 1
    assert [a.state for a in _attempts(kit.svc, task.id)] == ["running"]

    restarted = Runtime(kit.svc)  # a new process: another owner, the old one's claims are stale

    def works(ctx):
        keys.append(ctx.idempotency_key)
        return Outcome(response={"sent": True})

    restarted.registry.register(Probe(works), replace=True)
    assert restarted.tick()["tasks"] == 0  # the dead process's lease has not run out yet
    clock.advance(seconds=kit.svc.settings.task_lease_seconds + 1)
    restarted.tick()
    task = _tasks(kit.svc)[0]
    assert task.status == "done" and task.attempts == 2
    states = [(a.number, a.state) for a in _attempts(kit.svc, task.id)]
    assert states == [(1, "interrupted"), (2, "ok")]
    assert "中断" in _attempts(kit.svc, task.id)[0].error
    assert keys[0] == keys[1]  # the re-run carries the same idempotency key


def test_one_outcome_the_database_refuses_does_not_strand_its_batch(kit):
    """A lone surrogate and a NUL in one step's error and response: the other 19 are recorded,
    and the bad one is recorded scrubbed instead of leaving all 20 `running`."""

    def behave(ctx):
        if ctx.data["customerName"] == "7":
            raise PermanentError("坏数据 \ud800 结束", response={"echo": "a\x00b\ud800"})
        return Outcome(response={"n": ctx.data["customerName"]})

    _probe_strategy(kit, behave)
    _post(kit, 20)
    kit.rt.tick()
    tasks = _tasks(kit.svc)
    assert len(tasks) == 20 and not [t for t in tasks if t.status == "running"]
    assert sorted(t.status for t in tasks).count("done") == 19
    bad = [t for t in tasks if t.status == "dead"]
    assert len(bad) == 1 and "坏数据" in bad[0].last_error and "\ud800" not in bad[0].last_error
    assert [a.state for a in _attempts(kit.svc, bad[0].id)] == ["failed"]


def test_a_deferred_step_spends_no_attempt_and_runs_later(kit, clock):
    calls = []

    def behave(ctx):
        calls.append(ctx.attempt)
        if len(calls) == 1:
            raise DeferStep("Redis 暂不可用，稍后再发", delay_seconds=120)
        return Outcome()

    _probe_strategy(kit, behave)
    _post(kit, 1)
    kit.rt.tick()
    task = _tasks(kit.svc)[0]
    assert task.status == "pending" and task.attempts == 0 and "延后" in task.note
    assert task.due_at >= clock.now() + timedelta(seconds=119)
    clock.advance(seconds=121)
    kit.rt.tick()
    task = _tasks(kit.svc)[0]
    assert task.status == "done" and task.attempts == 1 and calls == [1, 1]
    assert [a.state for a in _attempts(kit.svc, task.id)] == ["deferred", "ok"]


def test_a_process_never_takes_back_a_step_it_still_holds(kit, clock):
    """The lease ran out because we are slow, not dead: our own sweep leaves it alone, and
    the heartbeat keeps it from every other worker."""
    kit.strategy("password_changed", [row("status", "eq", "1")],
                 [{"processor": "sms", "config": {"mobile": "13800138000", "content": "x"},
                   "timing": {"mode": "delay", "hours": 1}}])
    _post(kit, 1)
    kit.rt.tick()
    clock.advance(hours=2)
    claimed = kit.rt.scheduler.sweep()
    assert len(claimed) == 1
    kit.rt.executor.held.add(claimed)  # as Runtime.submit does before queueing the batch
    clock.advance(seconds=kit.svc.settings.task_lease_seconds + 1)
    assert kit.rt.scheduler.sweep() == []
    other = Runtime(kit.svc)
    assert extend_leases(kit.svc.db, kit.rt.owner, claimed, clock.now() + timedelta(seconds=30)) == 1
    assert other.scheduler.sweep() == []
    clock.advance(seconds=31)  # no more heartbeats: the holder is gone
    assert other.scheduler.sweep() == claimed


def test_slow_steps_past_the_lease_are_delivered_once(engine_services, fake_http):
    """Background mode on the real clock, a 1 s lease and 1.5 s HTTP calls: the heartbeat keeps
    every claim, so each step is sent once and has one attempt."""
    svc = dataclasses.replace(with_settings(engine_services, task_lease_seconds=1, scheduler_sweep_seconds=0.1),
                              clock=SystemClock())
    rt = Runtime(svc)
    kit = Kit(rt)
    fake_http.always("/slow", Reply(200, body={"ok": True}, delay=1.5))
    proc = create_definition(svc.db, {"name": "慢接口", "method": "POST", "url": fake_http.url("/slow"),
                                      "body": '{"n": "${customerName}"}'})
    kit.strategy("password_changed", [row("status", "eq", "1")],
                 [{"processor": proc.key, "config": {}, "timing": {"mode": "immediate"}}])
    rt.start(cron=False)
    try:
        _post(kit, 3)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and [t.status for t in _tasks(svc)] != ["done"] * 3:
            time.sleep(0.1)
    finally:
        rt.stop(drain_seconds=5)
    tasks = _tasks(svc)
    assert len(tasks) == 3 and {t.status for t in tasks} == {"done"}
    sent = [r.json()["n"] for r in fake_http.requests_to("/slow")]
    assert sorted(sent) == ["0", "1", "2"]
    assert all(t.attempts == 1 and len(_attempts(svc, t.id)) == 1 for t in tasks)
