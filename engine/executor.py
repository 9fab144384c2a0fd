"""Runs claimed steps: processor, attempt record, then done / retry later / dead letter.

Steps are run in small batches: each processor runs on its own, but the batch's outcomes are
written in ONE transaction. One commit per step was the end-to-end ceiling on SQLite
(bench/ingest.py: ~300 events/s with ~4.6 steps each, most of a step's time waiting for the
write lock); the ledger semantics are unchanged — each row is still guarded by its lease.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import bindparam, insert, select, update

from config.clock import as_utc
from engine.backoff import next_attempt_at
from engine.models import StepAttempt, StrategyTask
from events.models import EventRecord
from events.placeholders import PlaceholderError
from handlers.base import Outcome, ProcessorContext
from handlers.errors import ProcessorError, UnknownProcessor
from rules.models import Strategy

log = logging.getLogger("ckb.executor")
TASKS = StrategyTask.__table__
EVENTS = EventRecord.__table__
# Built once, compiled once (per-task statements were a visible share of the worker's profile).
STRATEGIES = Strategy.__table__
_TASK_FINISH = (update(TASKS).where(TASKS.c.id == bindparam("b_id"), TASKS.c.status == "running",
                                    TASKS.c.lease_owner == bindparam("b_owner"))
                .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"), due_at=bindparam("b_due"),
                        lease_until=None, rendered=bindparam("b_rendered", type_=TASKS.c.rendered.type),
                        result=bindparam("b_result", type_=TASKS.c.result.type), last_error=bindparam("b_error"),
                        note=bindparam("b_note"), started_at=bindparam("b_started", type_=TASKS.c.started_at.type),
                        finished_at=bindparam("b_finished", type_=TASKS.c.finished_at.type)))
_ATTEMPT_INSERT = insert(StepAttempt.__table__)
# A step waiting for an earlier one is due just after that step's retry, so a sweep runs them in order.
WAIT_MARGIN = timedelta(seconds=1)


@dataclass
class AttemptResult:
    ok: bool
    retryable: bool = False
    error: str = ""
    request: Optional[dict] = None
    response: Optional[dict] = None
    retry_after: Optional[float] = None
    note: str = ""


class TaskExecutor:
    def __init__(self, runtime):
        self.runtime = runtime

    @property
    def services(self):
        return self.runtime.services

    def execute(self, task_id: int) -> Optional[str]:
        """Runs one task this process has claimed; returns its new status (None if not ours)."""
        return self.execute_many([task_id]).get(task_id)

    def execute_many(self, task_ids: list[int]) -> dict[int, str]:
        """Runs claimed tasks one by one, then records every outcome in one write transaction."""
        tasks, records, enabled = self._load(task_ids)
        return self._run(tasks, records, enabled, self._unfinished_earlier(tasks))

    def execute_claimed(self, steps: list) -> dict[int, str]:
        """Runs immediate steps the dispatcher has just written and claimed: (task row, record)
        pairs already in memory, so nothing is read back (a fifth of the worker's time before)."""
        return self._run([task for task, _ in steps], {record.id: record for _, record in steps}, {})

    def _run(self, tasks: list, records: dict, enabled: dict, waiting_on: dict | None = None) -> dict[int, str]:
        """Runs the batch in order. A strategy's immediate steps run in the order the marketer set
        them: when one fails and will be retried, the immediate steps after it in the same run wait
        for it (rescheduled just after its retry, attempts untouched) instead of running ahead —
        识别客户 must not be overtaken by 分配. `waiting_on` maps (event, strategy) to the earliest
        unfinished immediate step outside this batch: (step index, due time)."""
        outcomes = []  # (task, status override or None, result, started, duration_ms, (status, due) or None)
        waiting_on = dict(waiting_on or {})
        for task in tasks:
            if task.timing != "immediate" and not enabled.get(task.strategy_id, False):
                outcomes.append((task, "cancelled", None, None, 0, None))
                continue
            run = (task.event_record_id, task.strategy_id)
            blocker = waiting_on.get(run) if task.timing == "immediate" else None
            if blocker is not None and blocker[0] < task.step_index:
                outcomes.append((task, "waiting", None, None, 0, blocker))
                continue
            started = self.services.now()
            t0 = time.perf_counter()
            result = self._attempt(task, records[task.event_record_id])
            final = self._final_status(task, result, self.services.now())
            if task.timing == "immediate" and final[0] == "failed":
                waiting_on.setdefault(run, (task.step_index, final[1]))
            outcomes.append((task, None, result, started, int((time.perf_counter() - t0) * 1000), final))
        return self._record_all(outcomes) if outcomes else {}

    def _load(self, task_ids: list[int]):
        """Core rows (attribute access like the models) in three reads for the whole batch."""
        with self.services.db.read() as s:
            conn = s.connection()
            tasks = [t for t in conn.execute(select(TASKS).where(TASKS.c.id.in_(task_ids)).order_by(TASKS.c.id))
                     if t.status == "running" and t.lease_owner == self.runtime.owner]
            record_ids = {t.event_record_id for t in tasks}
            records = {r.id: r for r in conn.execute(
                select(EVENTS.c.id, EVENTS.c.event_code, EVENTS.c.data).where(EVENTS.c.id.in_(record_ids)))} if record_ids else {}
            delayed = {t.strategy_id for t in tasks if t.timing != "immediate"}
            enabled = dict(conn.execute(select(STRATEGIES.c.id, STRATEGIES.c.enabled)
                                        .where(STRATEGIES.c.id.in_(delayed))).all()) if delayed else {}
        return tasks, records, enabled

    def _unfinished_earlier(self, tasks: list) -> dict:
        """For re-run immediate steps (retries, waiting steps): the earliest unfinished immediate
        step of each of their runs that is not in this batch."""
        runs = {(t.event_record_id, t.strategy_id) for t in tasks if t.timing == "immediate"}
        if not runs:
            return {}
        in_batch = {t.id for t in tasks}
        out: dict = {}
        with self.services.db.read() as s:
            rows = s.connection().execute(
                select(TASKS.c.id, TASKS.c.event_record_id, TASKS.c.strategy_id, TASKS.c.step_index, TASKS.c.due_at,
                       TASKS.c.status)
                .where(TASKS.c.event_record_id.in_({r[0] for r in runs}), TASKS.c.timing == "immediate",
                       TASKS.c.status.in_(("pending", "failed", "running")))
                .order_by(TASKS.c.step_index))
            for row in rows:
                run = (row.event_record_id, row.strategy_id)
                if run in runs and row.id not in in_batch and run not in out:
                    # Another worker holds a running one: look again a little later.
                    due = row.due_at if row.status != "running" else self.services.now()
                    out[run] = (row.step_index, due)
        return out

    def _attempt(self, task: StrategyTask, record: EventRecord) -> AttemptResult:
        try:
            processor = self.runtime.registry.get(task.processor_key)
        except UnknownProcessor as exc:
            return AttemptResult(False, error=str(exc))
        ctx = ProcessorContext(
            event_code=record.event_code, data=dict(record.data or {}), event_record_id=record.id,
            strategy_id=task.strategy_id, task_id=task.id, idempotency_key=task.idempotency_key,
            attempt=task.attempts + 1, services=self.services, processors=self.runtime.registry,
        )
        try:
            outcome: Outcome = processor.run(ctx, task.config)
        except ProcessorError as exc:
            return AttemptResult(False, exc.retryable, exc.message, exc.request, exc.response,
                                 getattr(exc, "retry_after", None))
        except PlaceholderError as exc:
            return AttemptResult(False, False, str(exc))
        except Exception as exc:  # noqa: BLE001 - an unexpected bug in a processor must not kill the worker
            log.exception("processor crashed", extra={"task": task.id, "processor": task.processor_key})
            return AttemptResult(False, True, f"处理器内部错误：{type(exc).__name__}: {exc}")
        return AttemptResult(True, request=outcome.request, response=outcome.response, note=outcome.note)

    def _final_status(self, task, result: AttemptResult, now: datetime) -> tuple[str, datetime]:
        attempts = task.attempts + 1
        if result.ok:
            return "done", task.due_at
        if result.retryable and attempts < task.max_attempts:
            return "failed", next_attempt_at(now, attempts, self.services.settings.retry_base_seconds, result.retry_after,
                                             self.runtime.registry.retry_schedule(task.processor_key))
        return "dead", task.due_at

    def _record_all(self, outcomes: list) -> dict[int, str]:
        now = self.services.now()
        statuses: dict[int, str] = {}
        with self.services.db.write() as s:
            conn = s.connection()
            for task, override, result, started, duration_ms, final in outcomes:
                if override == "cancelled":
                    conn.execute(update(TASKS).where(TASKS.c.id == task.id, TASKS.c.lease_owner == self.runtime.owner)
                                 .values(status="cancelled", note="策略已禁用或已删除，延迟任务取消",
                                         lease_until=None, finished_at=now))
                    statuses[task.id] = "cancelled"
                    continue
                if override == "waiting":
                    step_index, blocker_due = final
                    conn.execute(update(TASKS).where(TASKS.c.id == task.id, TASKS.c.lease_owner == self.runtime.owner)
                                 .values(status="pending", lease_until=None,
                                         due_at=max(as_utc(blocker_due), as_utc(now)) + WAIT_MARGIN,
                                         note=f"等待步骤 {step_index + 1} 重试完成后执行"))
                    statuses[task.id] = "pending"
                    continue
                status, due = final
                attempts = task.attempts + 1
                changed = conn.execute(_TASK_FINISH, {
                    "b_id": task.id, "b_owner": self.runtime.owner,
                    "b_status": status, "b_attempts": attempts, "b_due": due,
                    "b_rendered": result.request or task.rendered or {}, "b_result": result.response or {},
                    "b_error": (result.error or "")[:2000], "b_note": (result.note or "")[:500],
                    "b_started": task.started_at or started,
                    "b_finished": now if status in ("done", "dead") else None}).rowcount
                if not changed:
                    statuses[task.id] = task.status  # the lease was lost to another worker; its run wins
                    continue
                conn.execute(_ATTEMPT_INSERT, {
                    "task_id": task.id, "number": attempts, "started_at": started, "finished_at": now,
                    "ok": result.ok, "retryable": result.retryable, "request": result.request or {},
                    "response": result.response or {}, "error": (result.error or "")[:2000],
                    "duration_ms": duration_ms})
                statuses[task.id] = status
                if status == "dead":
                    log.warning("step dead-lettered", extra={"task": task.id, "error": result.error})
        return statuses
