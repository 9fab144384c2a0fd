"""Immediate steps settled by the dispatcher itself, before their task rows exist.

A processor marked `inline` (handlers.base: pure — no database write, nothing sent; 写日志) runs
while its event is dispatched, and its task row is inserted already finished, with its attempt,
in the dispatcher's one transaction. Before, each such step was inserted as claimed, handed to
the step pool, run, and recorded again by a second (group) transaction: an UPDATE of the task and
an INSERT of the attempt per step, a third of the worker's profile and most of the step latency
under load (the steps queued behind that recording). Nothing here weakens a guarantee: a crash
before the commit leaves the event claimable and the step runs again, harmless for a pure step,
which is the only kind run here; steps with effects keep the executor's start-before-effect path.

A run's immediate steps keep their order: inline ones run until the first that is not inline
(it and every later one go to the executor, claimed, as before) or one that failed and will be
retried (the later ones wait for its retry, exactly as the executor makes them wait).
"""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from config.clock import as_utc
from engine.executor import WAIT_MARGIN
from handlers.errors import UnknownProcessor


def is_inline(registry, processor_key: str) -> bool:
    try:
        return bool(getattr(registry.get(processor_key), "inline", False))
    except UnknownProcessor:
        return False


def settle_run(runtime, rec, strategy, steps: list, now: datetime) -> dict[int, tuple[dict, dict | None]]:
    """Runs the leading inline immediate steps of one strategy run; returns, per step index, the
    task row's values (its final state, or waiting for a retry) and its attempt row (or None)."""
    registry = runtime.registry
    settled: dict[int, tuple[dict, dict | None]] = {}
    blocker = None  # (step index, retry due) of an inline step that failed and will be retried
    for step in steps:
        if step.status != "pending" or step.due_at > now:
            continue  # delayed or skipped: not an immediate step
        if blocker is not None:
            if step.timing == "immediate":  # as the executor: only a run's immediate steps keep order
                settled[step.step_index] = ({
                    "status": "pending", "due_at": max(as_utc(blocker[1]), as_utc(now)) + WAIT_MARGIN,
                    "note": f"等待步骤 {blocker[0] + 1} 重试完成后执行"}, None)
            continue
        if step.timing != "immediate" or not is_inline(registry, step.processor_key):
            break  # this one and the rest run on the executor, in order
        task = SimpleNamespace(
            id=None, event_record_id=rec.id, strategy_id=strategy.id, step_index=step.step_index,
            processor_key=step.processor_key, config=step.config, timing=step.timing, due_at=step.due_at,
            attempts=0, max_attempts=registry.max_attempts(step.processor_key), rendered={},
            idempotency_key=f"{rec.id}:{strategy.id}:{step.step_index}")
        done, final = runtime.executor.run_detached(task, rec)
        out = done.outcome
        settled[step.step_index] = ({
            "status": out["status"], "due_at": out["due_at"], "attempts": out["delta"],
            "started_at": out["started_at"], "rendered": out["rendered"], "result": out["result"],
            "last_error": out["last_error"], "note": out["note"], "finished_at": out["finished_at"]},
            {"number": 1, "worker": runtime.owner, **done.attempt})
        if final[0] == "failed":
            blocker = (step.step_index, final[1])
    return settled
