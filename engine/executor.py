"""Runs claimed steps: processor, attempt record, then done / retry later / dead letter.

Each step's start is committed before its processor runs and its outcome right after (see
engine.journal: group commit, so concurrent steps share transactions — one commit per step was
the SQLite ceiling). A crash therefore re-runs only the steps that were in flight, and those
show in history as 中断 beside the re-run. Tasks this process holds are listed in `held`: the
runtime's heartbeat extends their leases and its own sweep never claims them again.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select

from config import metrics
from config.clock import as_utc
from engine.backoff import next_attempt_at
from engine.journal import Finish, Start, StepJournal
from engine.models import StrategyTask
from events.models import EventRecord
from events.placeholders import PlaceholderError
from handlers.base import Outcome, ProcessorContext
from handlers.errors import DeferStep, ProcessorError, UnknownProcessor
from rules.models import Strategy

log = logging.getLogger("ckb.executor")
TASKS = StrategyTask.__table__
EVENTS = EventRecord.__table__
STRATEGIES = Strategy.__table__
# A step waiting for an earlier one is due just after that step's retry, so a sweep runs them in order.
WAIT_MARGIN = timedelta(seconds=1)
HANDED_BACK_NOTE = "进程停止，任务已交还（不计尝试次数）"


class Holdings:
    """Task ids this process has claimed and not yet recorded an outcome for (thread-safe)."""

    def __init__(self):
        self._ids: set[int] = set()
        self._lock = threading.Lock()

    def add(self, ids) -> None:
        with self._lock:
            self._ids.update(ids)

    def discard(self, ids) -> None:
        with self._lock:
            self._ids.difference_update(ids)

    def snapshot(self) -> list[int]:
        with self._lock:
            return sorted(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


@dataclass
class AttemptResult:
    ok: bool
    retryable: bool = False
    error: str = ""
    request: Optional[dict] = None
    response: Optional[dict] = None
    retry_after: Optional[float] = None
    note: str = ""
    defer_until: Optional[datetime] = None  # DeferStep: back to the queue, no attempt spent


class TaskExecutor:
    def __init__(self, runtime):
        self.runtime = runtime
        self.held = Holdings()
        self.in_flight: set[int] = set()  # started (recorded) and not yet finished: never handed back
        self.draining = threading.Event()  # set on SIGTERM: start nothing new, hand the rest back
        self.journal = StepJournal(runtime.services.db, on_committed=self._committed)

    @property
    def services(self):
        return self.runtime.services

    def execute(self, task_id: int) -> Optional[str]:
        """Runs one task this process has claimed; returns its new status (None if not ours)."""
        return self.execute_many([task_id]).get(task_id)

    def execute_many(self, task_ids: list[int]) -> dict[int, str]:
        """Runs claimed tasks one by one, each start and outcome recorded as it happens."""
        self.held.add(task_ids)
        try:
            tasks, records, enabled = self._load(task_ids)
        except Exception:
            self.held.discard(task_ids)  # leases run out; any worker claims them again
            raise
        self.held.discard(set(task_ids) - {t.id for t in tasks})
        return self._run(tasks, records, enabled, self._unfinished_earlier(tasks))

    def execute_claimed(self, steps: list) -> dict[int, str]:
        """Runs immediate steps the dispatcher has just written and claimed: (task row, record)
        pairs already in memory, so nothing is read back (a fifth of the worker's time before)."""
        self.held.add(task.id for task, _ in steps)
        return self._run([task for task, _ in steps], {record.id: record for _, record in steps}, {})

    def run_detached(self, task, record) -> tuple[Finish, tuple]:
        """Runs a step whose row does not exist yet (engine.inline_steps): returns its outcome,
        not queued anywhere (the caller writes it), and its final (status, due time)."""
        started = self.services.now()
        t0 = time.perf_counter()
        result = self._attempt(task, record)
        finished = self.services.now()
        final = self._final_status(task, result, finished)
        return self._finish(task, None, result, final, started, finished, int((time.perf_counter() - t0) * 1000)), final

    def _committed(self, ops: list) -> None:
        """A task leaves `held` once its outcome (or hand-back) is on disk, not before: until
        then the heartbeat keeps its lease."""
        self.held.discard(op.task_id for op in ops if isinstance(op, Finish) or
                          (isinstance(op, Start) and op.attempt_id is None))

    def _run(self, tasks: list, records: dict, enabled: dict, waiting_on: dict | None = None) -> dict[int, str]:
        """Runs the batch in order. A strategy's immediate steps run in the order the marketer set
        them: when one fails and will be retried, the immediate steps after it in the same run wait
        for it (rescheduled just after its retry, attempts untouched) instead of running ahead —
        识别客户 must not be overtaken by 分配. `waiting_on` maps (event, strategy) to the earliest
        unfinished immediate step outside this batch: (step index, due time)."""
        waiting_on = dict(waiting_on or {})
        statuses: dict[int, str] = {}
        last = None
        for index, task in enumerate(tasks):
            if self.draining.is_set():
                last = self._hand_back(tasks[index:], statuses) or last
                break
            try:
                op, statuses[task.id] = self._step(task, records, enabled, waiting_on)
            except Exception:  # noqa: BLE001 - one step's bookkeeping bug must not strand the batch
                log.exception("step failed outside its processor", extra={"task": task.id})
                self.held.discard([task.id])  # its lease runs out and it is claimed again
                continue
            last = op or last
        self.journal.wait(last)
        return statuses

    def _step(self, task, records: dict, enabled: dict, waiting_on: dict):
        """Runs or settles one task; returns (its queued journal record, new status)."""
        owner = self.runtime.owner
        now = self.services.now()
        if task.timing != "immediate" and not enabled.get(task.strategy_id, False):
            return self.journal.submit(Finish(task.id, owner=owner, task={
                "status": "cancelled", "note": "策略已禁用或已删除，延迟任务取消", "lease_until": None,
                "finished_at": now})), "cancelled"
        run = (task.event_record_id, task.strategy_id)
        blocker = waiting_on.get(run) if task.timing == "immediate" else None
        if blocker is not None and blocker[0] < task.step_index:
            return self.journal.submit(Finish(task.id, owner=owner, task={
                "status": "pending", "lease_until": None,
                "due_at": max(as_utc(blocker[1]), as_utc(now)) + WAIT_MARGIN,
                "note": f"等待步骤 {blocker[0] + 1} 重试完成后执行"})), "pending"
        start = None
        if self._external(task):
            start = self.journal.submit(Start(task.id, owner=owner, now=now), wait=True)
            if start.attempt_id is None:
                return None, task.status  # the lease went to another worker: its run wins, we run nothing
        self.in_flight.add(task.id)
        try:
            return self._call(task, records.get(task.event_record_id), start, waiting_on, now)
        finally:
            self.in_flight.discard(task.id)

    def _call(self, task, record, start: Optional[Start], waiting_on: dict, started: datetime):
        t0 = time.perf_counter()
        if start is not None and start.interrupted and not self._replay_safe(task):
            result = AttemptResult(False, error="上次执行中断、结果未知，且该处理器不能安全重做：已转入死信，请核实后重放")
        elif record is None:
            result = AttemptResult(False, error="事件记录不存在")
        else:
            result = self._attempt(task, record)
        finished = self.services.now()
        final = self._final_status(task, result, finished)
        if task.timing == "immediate" and final[0] == "failed":
            waiting_on.setdefault((task.event_record_id, task.strategy_id), (task.step_index, final[1]))
        return self.journal.submit(self._finish(task, start, result, final, started, finished,
                                                int((time.perf_counter() - t0) * 1000))), final[0]

    def _processor_flag(self, task, name: str) -> bool:
        try:
            return getattr(self.runtime.registry.get(task.processor_key), name, True)
        except UnknownProcessor:
            return True

    def _external(self, task) -> bool:
        """Its start must be on disk before it runs (see Processor.external)."""
        return self._processor_flag(task, "external")

    def _replay_safe(self, task) -> bool:
        return self._processor_flag(task, "replay_safe")

    def _finish(self, task, start: Optional[Start], result: AttemptResult, final: tuple, started: datetime,
                now: datetime, duration_ms: int) -> Finish:
        status, due = final
        deferred = result.defer_until is not None
        state = "ok" if result.ok else "deferred" if deferred else "failed"
        metrics.STEPS.labels(state).inc()
        metrics.STEP_SECONDS.observe(duration_ms / 1000)
        error = (result.error or "")[:2000]
        # A recorded start counted the attempt already; a deferral gives it back (it was not the
        # step's failure). Without a start (a local processor) the outcome counts it.
        delta = (-1 if deferred else 0) if start is not None else (0 if deferred else 1)
        return Finish(task.id, owner=self.runtime.owner, start=start, attempt={
            "state": state, "finished_at": now, "ok": result.ok, "retryable": result.retryable,
            "request": result.request or {}, "response": result.response or {}, "error": error,
            "duration_ms": duration_ms, **({"started_at": started} if start is None else {}),
        }, outcome={
            "status": status, "due_at": due, "delta": delta, "started_at": started,
            "rendered": result.request or task.rendered or {}, "result": result.response or {},
            "last_error": error, "note": (f"延后：{result.error}" if deferred else result.note or "")[:500],
            "finished_at": now if status in ("done", "dead") else None,
        })

    def _hand_back(self, tasks: list, statuses: dict):
        """Draining: claimed steps not yet started go back to the queue, no attempt spent."""
        last = None
        for task in tasks:
            last = self.journal.submit(Finish(task.id, owner=self.runtime.owner, task={
                "status": "failed" if task.attempts else "pending", "lease_until": None, "lease_owner": "",
                "note": HANDED_BACK_NOTE}))
            statuses[task.id] = "pending"
        return last

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
        except DeferStep as exc:
            until = as_utc(exc.until) if exc.until else self.services.now() + timedelta(seconds=exc.delay_seconds)
            return AttemptResult(False, True, exc.message, exc.request, exc.response, defer_until=until)
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
        if result.defer_until is not None:
            return ("failed" if task.attempts else "pending"), result.defer_until
        if result.retryable and attempts < task.max_attempts:
            return "failed", next_attempt_at(now, attempts, self.services.settings.retry_base_seconds, result.retry_after,
                                             self.runtime.registry.retry_schedule(task.processor_key))
        return "dead", task.due_at
