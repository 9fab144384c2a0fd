"""The step journal: every step's start and outcome reach the database promptly, by group commit.

A step's start (its StepAttempt row, state "running", and the task's attempt counter) is
committed BEFORE its processor is called: a crash then leaves a visible, honest trace (中断)
instead of a step that silently runs again. Outcomes are queued and ride along with the next
commit — the next step's start on any executor thread, or the end of the batch — so a batch of
64 steps no longer waits for one transaction at its end (a crash used to re-run every step of it).

Group commit keeps the throughput: threads that want a write at the same time share one
transaction (whoever finds no commit in progress writes everyone's queued records). If that
transaction fails — one outcome holding data the database refuses (a lone surrogate, a NUL) —
each record is written on its own, the refused one again with its texts scrubbed, so one bad row
never costs its neighbours their outcomes (a batch used to stay `running` forever).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional

from sqlalchemy import bindparam, func, insert, select, update

from engine.models import StepAttempt, StrategyTask

log = logging.getLogger("ckb.journal")
TASKS = StrategyTask.__table__
ATTEMPTS = StepAttempt.__table__
# Finished steps wait at most this long for a commit to ride on before one is made for them.
FLUSH_SECONDS = 0.2
INTERRUPTED_ERROR = "执行中断（进程退出或失联），结果未知；重新执行时带同一幂等键"
_COUNT_START = (update(TASKS).where(TASKS.c.id == bindparam("b_id"), TASKS.c.status == "running",
                                    TASKS.c.lease_owner == bindparam("b_owner"))
                .values(attempts=TASKS.c.attempts + 1,
                        started_at=func.coalesce(TASKS.c.started_at, bindparam("b_now", type_=TASKS.c.started_at.type)))
                .returning(TASKS.c.attempts))
_INTERRUPT = (update(ATTEMPTS).where(ATTEMPTS.c.task_id == bindparam("b_id"), ATTEMPTS.c.finished_at.is_(None))
              .values(state="interrupted", error=INTERRUPTED_ERROR,
                      finished_at=bindparam("b_now", type_=ATTEMPTS.c.finished_at.type)))


def _next_number():
    return (select(func.coalesce(func.max(ATTEMPTS.c.number), 0) + 1)
            .where(ATTEMPTS.c.task_id == bindparam("b_id")).scalar_subquery())


_ATTEMPT_START = insert(ATTEMPTS).values(
    task_id=bindparam("b_id"), number=_next_number(), state="running", worker=bindparam("b_owner"),
    started_at=bindparam("b_now", type_=ATTEMPTS.c.started_at.type), ok=False, retryable=False, request={},
    response={}, error="", duration_ms=0).returning(ATTEMPTS.c.id)


_ATTEMPT_DONE = insert(ATTEMPTS).values(
    task_id=bindparam("b_id"), number=_next_number(), worker=bindparam("b_owner"),
    started_at=bindparam("started_at", type_=ATTEMPTS.c.started_at.type), state=bindparam("state"),
    finished_at=bindparam("finished_at", type_=ATTEMPTS.c.finished_at.type), ok=bindparam("ok"),
    retryable=bindparam("retryable"), request=bindparam("request", type_=ATTEMPTS.c.request.type),
    response=bindparam("response", type_=ATTEMPTS.c.response.type), error=bindparam("error"),
    duration_ms=bindparam("duration_ms"))


# An outcome's task update, built once (per-step statements were a visible share of the worker's
# profile); `b_delta` is how the attempt counter moves: +1 (counted here), 0, or -1 (a deferral
# giving back the attempt its start counted).
_TASK_FINISH = (update(TASKS).where(TASKS.c.id == bindparam("b_id"), TASKS.c.status == "running",
                                    TASKS.c.lease_owner == bindparam("b_owner"))
                .values(status=bindparam("status"), due_at=bindparam("due_at", type_=TASKS.c.due_at.type),
                        lease_until=None, lease_owner="", attempts=TASKS.c.attempts + bindparam("delta"),
                        rendered=bindparam("rendered", type_=TASKS.c.rendered.type),
                        result=bindparam("result", type_=TASKS.c.result.type), last_error=bindparam("last_error"),
                        note=bindparam("note"), finished_at=bindparam("finished_at", type_=TASKS.c.finished_at.type),
                        started_at=func.coalesce(TASKS.c.started_at,
                                                 bindparam("started_at", type_=TASKS.c.started_at.type))))
_ATTEMPT_FINISH = (update(ATTEMPTS).where(ATTEMPTS.c.id == bindparam("b_attempt"))
                   .values(state=bindparam("state"), finished_at=bindparam("finished_at", type_=ATTEMPTS.c.finished_at.type),
                           ok=bindparam("ok"), retryable=bindparam("retryable"),
                           request=bindparam("request", type_=ATTEMPTS.c.request.type),
                           response=bindparam("response", type_=ATTEMPTS.c.response.type),
                           error=bindparam("error"), duration_ms=bindparam("duration_ms")))


@dataclass(eq=False)
class Op:
    task_id: int
    done: bool = field(default=False, init=False)


@dataclass(eq=False)
class Start(Op):
    """Counts the attempt and writes its "running" row, if this process still holds the task."""

    owner: str = ""
    now: Optional[datetime] = None
    attempt_id: Optional[int] = field(default=None, init=False)  # None: not ours any more, do not run
    attempts: int = field(default=0, init=False)
    interrupted: int = field(default=0, init=False)  # earlier attempts left unfinished by a crash

    def write(self, conn, _scrub: bool) -> None:
        args = {"b_id": self.task_id, "b_owner": self.owner, "b_now": self.now}
        attempts = conn.execute(_COUNT_START, args).scalar()
        if attempts is None:
            return
        self.interrupted = conn.execute(_INTERRUPT, args).rowcount
        self.attempts = attempts
        self.attempt_id = conn.execute(_ATTEMPT_START, args).scalar()


@dataclass(eq=False)
class Finish(Op):
    """An attempt's outcome and the task's new state; the attempt row is finished even when the
    task's lease was lost meanwhile (every real attempt shows in history). `outcome` holds the
    standard outcome values (executemany'd with _TASK_FINISH); `task` other task updates
    (cancelled, waiting, handed back)."""

    owner: str = ""
    start: Optional[Start] = None  # the attempt this outcome ends (written earlier, maybe in the same commit)
    attempt: dict = field(default_factory=dict)
    outcome: dict = field(default_factory=dict)
    task: dict = field(default_factory=dict)

    def attempt_params(self, scrub: bool) -> tuple[str, Optional[dict]]:
        """("insert" | "update", parameters) for the attempt row, or ("", None)."""
        attempt = scrubbed(self.attempt) if scrub else self.attempt
        if not attempt:
            return "", None
        if self.start is None:  # a local processor: no start was recorded, the whole row is written now
            return "insert", {"b_id": self.task_id, "b_owner": self.owner, **attempt}
        if self.start.attempt_id is None:
            return "", None
        return "update", {"b_attempt": self.start.attempt_id, **attempt}

    def outcome_params(self, scrub: bool) -> Optional[dict]:
        if not self.outcome:
            return None
        return {"b_id": self.task_id, "b_owner": self.owner, **(scrubbed(self.outcome) if scrub else self.outcome)}

    def write(self, conn, scrub: bool) -> None:
        write_all(conn, [self], scrub)


def write_all(conn, ops: list, scrub: bool = False) -> None:
    """Starts in order (each needs its RETURNING), then every outcome in three executemany
    statements; a start always precedes its own outcome, in this commit or an earlier one."""
    for op in ops:
        if isinstance(op, Start):
            op.write(conn, scrub)
    finishes = [op for op in ops if isinstance(op, Finish)]
    inserts, updates = [], []
    for op in finishes:
        kind, params = op.attempt_params(scrub)
        (inserts if kind == "insert" else updates if kind == "update" else []).append(params)
    if inserts:
        conn.execute(_ATTEMPT_DONE, inserts)
    if updates:
        conn.execute(_ATTEMPT_FINISH, updates)
    outcomes = [p for p in (op.outcome_params(scrub) for op in finishes) if p is not None]
    if outcomes:
        applied = conn.execute(_TASK_FINISH, outcomes).rowcount
        if 0 <= applied < len(outcomes):
            log.warning("step outcomes after their lease was lost; their attempts are kept in history",
                        extra={"lost": len(outcomes) - applied})
    for op in finishes:
        if op.task:
            conn.execute(update(TASKS).where(TASKS.c.id == op.task_id, TASKS.c.status == "running",
                                             TASKS.c.lease_owner == op.owner)
                         .values(**(scrubbed(op.task) if scrub else op.task)))


def scrubbed(values: Any) -> Any:
    """Texts the database accepts: lone surrogates become U+FFFD, NUL is dropped (PostgreSQL
    refuses both in text and JSON; SQLite's UTF-8 encoding refuses surrogates)."""
    if isinstance(values, str):
        return values.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    if isinstance(values, dict):
        return {scrubbed(k): scrubbed(v) for k, v in values.items()}
    if isinstance(values, (list, tuple)):
        return [scrubbed(v) for v in values]
    if isinstance(values, float) and (values != values or values in (float("inf"), float("-inf"))):
        return str(values)
    return values


class StepJournal:
    def __init__(self, db, on_committed: Callable[[list], None] = lambda ops: None):
        self.db = db
        self.on_committed = on_committed
        self._cond = threading.Condition()
        self._queue: list[Op] = []
        self._busy = False
        self._last_commit = time.monotonic()

    def submit(self, op: Op, wait: bool = False) -> Op:
        """Queues a record; with `wait`, returns once it is committed (a start of an external
        effect must be). Queued records are committed at the latest FLUSH_SECONDS later, by the
        next thread that submits (or at the end of its batch)."""
        with self._cond:
            self._queue.append(op)
        if wait or time.monotonic() - self._last_commit > FLUSH_SECONDS:
            self.wait(op)
        return op

    def wait(self, op: Optional[Op]) -> None:
        """Returns once `op` (and everything queued before it) is committed or given up on."""
        while op is not None and not op.done:
            with self._cond:
                while self._busy and not op.done:
                    self._cond.wait()
                if op.done:
                    return
                batch, self._queue = self._queue, []
                self._busy = True
            try:
                self._write(batch)
            finally:
                self._last_commit = time.monotonic()
                with self._cond:
                    for o in batch:
                        o.done = True
                    self._busy = False
                    self._cond.notify_all()
                self.on_committed(batch)

    def _write(self, batch: list[Op]) -> None:
        try:
            with self.db.write() as s:
                write_all(s.connection(), batch)
            return
        except Exception:  # noqa: BLE001 - isolate the record the database refused, below
            log.warning("group commit failed; writing the step records one by one", exc_info=True)
        for op in batch:
            self._write_alone(op)

    def _write_alone(self, op: Op) -> None:
        for scrub in (False, True):
            try:
                with self.db.write() as s:
                    op.write(s.connection(), scrub)
                return
            except Exception:  # noqa: BLE001 - try scrubbed, then give up on this record only
                if isinstance(op, Start):
                    op.attempt_id = None
                log.exception("step record refused", extra={"task": op.task_id, "scrubbed": scrub})
        if isinstance(op, Finish) and (op.outcome or op.attempt):
            # Last resort: the outcome's texts cannot be stored at all; keep the state change.
            lost = "结果含无法保存的字符，已丢弃其内容"
            if op.attempt:
                op.attempt = {**op.attempt, "request": {}, "response": {}, "error": lost}
            if op.outcome:
                op.outcome = {**op.outcome, "rendered": {}, "result": {}, "last_error": lost, "note": ""}
            try:
                with self.db.write() as s:
                    op.write(s.connection(), False)
            except Exception:  # noqa: BLE001 - the lease expires and the step is retried
                log.exception("step outcome lost", extra={"task": op.task_id})
