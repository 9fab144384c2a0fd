"""Runs one claimed step: processor, attempt record, then done / retry later / dead letter."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import bindparam, insert, select, update

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
_TASK_BY_ID = select(TASKS).where(TASKS.c.id == bindparam("b_id"))
_RECORD_BY_ID = select(EVENTS.c.id, EVENTS.c.event_code, EVENTS.c.data).where(EVENTS.c.id == bindparam("b_id"))
_STRATEGY_ENABLED = select(Strategy.__table__.c.enabled).where(Strategy.__table__.c.id == bindparam("b_id"))
_TASK_FINISH = (update(TASKS).where(TASKS.c.id == bindparam("b_id"), TASKS.c.status == "running",
                                    TASKS.c.lease_owner == bindparam("b_owner"))
                .values(status=bindparam("b_status"), attempts=bindparam("b_attempts"), due_at=bindparam("b_due"),
                        lease_until=None, rendered=bindparam("b_rendered", type_=TASKS.c.rendered.type),
                        result=bindparam("b_result", type_=TASKS.c.result.type), last_error=bindparam("b_error"),
                        note=bindparam("b_note"), started_at=bindparam("b_started", type_=TASKS.c.started_at.type),
                        finished_at=bindparam("b_finished", type_=TASKS.c.finished_at.type)))
_ATTEMPT_INSERT = insert(StepAttempt.__table__)


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
        """Runs a task this process has claimed; returns its new status (None if not ours)."""
        db = self.services.db
        # Core rows (read-only, attribute access like the models) instead of three ORM loads.
        with db.read() as s:
            conn = s.connection()
            task = conn.execute(_TASK_BY_ID, {"b_id": task_id}).first()
            if task is None or task.status != "running" or task.lease_owner != self.runtime.owner:
                return None
            record = conn.execute(_RECORD_BY_ID, {"b_id": task.event_record_id}).first()
            enabled = conn.execute(_STRATEGY_ENABLED, {"b_id": task.strategy_id}).scalar() if task.timing != "immediate" else True
        if task.timing != "immediate" and not enabled:
            return self._finish(task, "cancelled", note="策略已禁用或已删除，延迟任务取消")
        started = self.services.now()
        t0 = time.perf_counter()
        result = self._attempt(task, record)
        duration_ms = int((time.perf_counter() - t0) * 1000)
        return self._record(task, result, started, duration_ms)

    def _attempt(self, task: StrategyTask, record: EventRecord) -> AttemptResult:
        try:
            processor = self.runtime.registry.get(task.processor_key)
        except UnknownProcessor as exc:
            return AttemptResult(False, error=str(exc))
        ctx = ProcessorContext(
            event_code=record.event_code, data=dict(record.data or {}), event_record_id=record.id,
            strategy_id=task.strategy_id, task_id=task.id, idempotency_key=task.idempotency_key,
            attempt=task.attempts + 1, services=self.services,
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

    def _record(self, task: StrategyTask, result: AttemptResult, started: datetime, duration_ms: int) -> str:
        now = self.services.now()
        attempts = task.attempts + 1
        if result.ok:
            status, due = "done", task.due_at
        elif result.retryable and attempts < task.max_attempts:
            status = "failed"
            due = next_attempt_at(now, attempts, self.services.settings.retry_base_seconds, result.retry_after)
        else:
            status, due = "dead", task.due_at
        with self.services.db.write() as s:
            conn = s.connection()
            changed = conn.execute(_TASK_FINISH, {
                "b_id": task.id, "b_owner": self.runtime.owner,
                "b_status": status, "b_attempts": attempts, "b_due": due,
                "b_rendered": result.request or task.rendered or {}, "b_result": result.response or {},
                "b_error": (result.error or "")[:2000], "b_note": (result.note or "")[:500],
                "b_started": task.started_at or started,
                "b_finished": now if status in ("done", "dead") else None}).rowcount
            if not changed:
                return task.status  # the lease was lost to another worker; its run wins
            conn.execute(_ATTEMPT_INSERT, {
                "task_id": task.id, "number": attempts, "started_at": started, "finished_at": now,
                "ok": result.ok, "retryable": result.retryable, "request": result.request or {},
                "response": result.response or {}, "error": (result.error or "")[:2000], "duration_ms": duration_ms})
        if status == "dead":
            log.warning("step dead-lettered", extra={"task": task.id, "error": result.error})
        return status

    def _finish(self, task: StrategyTask, status: str, note: str) -> str:
        with self.services.db.write() as s:
            s.execute(update(TASKS).where(TASKS.c.id == task.id, TASKS.c.lease_owner == self.runtime.owner)
                      .values(status=status, note=note, lease_until=None, finished_at=self.services.now()))
        return status
