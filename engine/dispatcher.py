"""The dispatcher: claim stored events, match every enabled strategy, plan and record steps.

One write transaction per batch records, for each event, the matched strategy runs, every
planned step (immediate ones already claimed by this process, or already finished when they
are pure and ran here: engine.inline_steps) and the event's outcome — all or nothing, so a
crash mid-batch leaves the events claimable again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Optional

from sqlalchemy import select

from engine.bulk_rows import RowWriter
from engine.ledger import claim_events
from engine.inline_steps import settle_run
from engine.journal import scrubbed
from engine.models import StepAttempt, StrategyRun, StrategyTask
from engine.planner import plan_steps
from events.field_types import typed
from events.models import EventRecord

log = logging.getLogger("ckb.dispatcher")
EVENTS = EventRecord.__table__
RUNS = StrategyRun.__table__
TASKS = StrategyTask.__table__
# Written straight through the DBAPI, statements built once (engine.bulk_rows: SQLAlchemy's
# per-parameter processing was a third of the worker on SQLite, psycopg's parse of each new
# multi-VALUES RETURNING text 40 % of a worker on PostgreSQL).
EVENT_ROWS = RowWriter(EVENTS)
RUN_ROWS = RowWriter(RUNS)
TASK_ROWS = RowWriter(TASKS)
ATTEMPT_ROWS = RowWriter(StepAttempt.__table__)


@dataclass
class Batch:
    """Claimed events, matched and planned (pure steps already run), not yet recorded."""

    now: datetime
    plans: list  # (record, runs, outcome, note) per event


def _still_claimed(conn, ids: list[int], lock_rows: bool) -> set[int]:
    stmt = select(EVENTS.c.id).where(EVENTS.c.id.in_(ids), EVENTS.c.dispatch_status == "claimed")
    return set(conn.execute(stmt.with_for_update() if lock_rows else stmt).scalars())


class Dispatcher:
    def __init__(self, runtime):
        self.runtime = runtime

    def run_once(self, limit: int | None = None) -> tuple[int, list]:
        """Claims and dispatches one batch; returns (events dispatched, immediate steps to run).

        The immediate steps come back as (task row, event record) pairs, already claimed by this
        process, so the executor runs them without reading back what was just written."""
        batch = self.prepare(limit)
        return (len(batch.plans), self.record(batch)) if batch is not None else (0, [])

    def prepare(self, limit: int | None = None) -> Optional["Batch"]:
        """Claims a batch (the claim returns the rows), matches and plans it, and runs its pure
        steps (engine.inline_steps); None when nothing was waiting. `record` writes it: the
        background runtime does that on another thread, so the next batch is matched meanwhile."""
        rt = self.runtime
        s = rt.settings
        now = rt.services.now()
        records = claim_events(rt.services.db, now, s.task_lease_seconds, limit or s.dispatcher_batch_size)
        if not records:
            return None
        rt.strategies.refresh()
        return Batch(now, [self._plan(rec, now) for rec in records])

    def record(self, batch: "Batch") -> list:
        """Writes the batch in one transaction. If the database refuses it, the pure steps'
        outcomes are scrubbed of texts it cannot store (a lone surrogate, a NUL) and it is written
        again — scrubbing every outcome up front was a twentieth of the worker's time."""
        try:
            return self._store(batch.plans, batch.now)
        except Exception:  # noqa: BLE001 - retried once scrubbed; a second failure is the caller's
            if not any(settled for _, runs, *_ in batch.plans for *_, settled in runs):
                raise
            log.warning("dispatch transaction refused; writing it again with step outcomes scrubbed", exc_info=True)
        for _, runs, *_ in batch.plans:
            for *_, settled in runs:
                for index, (values, attempt) in list(settled.items()):
                    settled[index] = (scrubbed(values), scrubbed(attempt) if attempt else attempt)
        return self._store(batch.plans, batch.now)

    def _plan(self, rec, now):
        rt = self.runtime
        definition = rt.catalog.definitions.get(rec.event_code)
        if definition is None or not rt.strategies.has_strategies(rec.event_code):
            return rec, [], "none", "没有启用的策略订阅此事件"
        data = typed(list(definition.fields), rec.data or {}, rt.settings.timezone)
        try:
            matched = rt.strategies.match(rec.event_code, data, now)
        except Exception as exc:  # noqa: BLE001 - recorded on the event, never silently dropped
            log.exception("matching failed", extra={"event_record": rec.id})
            return rec, [], "error", f"匹配出错：{exc}"[:500]
        runs = []
        for strategy in matched:
            if not strategy.in_window(rec.received_at):
                runs.append((strategy, False, "事件接入时间不在策略生效时间内", [], {}))
                continue
            steps = plan_steps(list(strategy.steps), rec.received_at, now, rt.settings.timezone)
            runs.append((strategy, True, "", steps, settle_run(rt, rec, strategy, steps, now)))
        hit = sum(1 for r in runs if r[1])
        if hit:
            return rec, runs, "matched", f"匹配 {hit} 条策略"
        return rec, runs, "unmatched", "条件均不满足" if not runs else "匹配的策略不在生效时间内"

    def _store(self, plans, now) -> list:
        rt = self.runtime
        lease = now + timedelta(seconds=rt.settings.task_lease_seconds)
        run_rows: list[dict] = []
        planned: list[tuple] = []  # (event record id, strategy, steps), parallel to run_rows
        with rt.services.db.write() as session:
            conn = session.connection()
            # Ours still (another dispatcher may have finished one after our lease expired): read
            # under the write lock (SQLite) or row locks (PostgreSQL), then one executemany.
            ours = _still_claimed(conn, [rec.id for rec, *_ in plans], rt.services.db.is_postgres)
            plans = [plan for plan in plans if plan[0].id in ours]
            EVENT_ROWS.update(conn, [{"id": rec.id, "dispatch_status": "done", "dispatched_at": now, "outcome": outcome,
                                      "outcome_note": note, "matched_count": sum(1 for r in runs if r[1])}
                                     for rec, runs, outcome, note in plans], where="dispatch_status = 'claimed'")
            for rec, runs, outcome, note in plans:
                for strategy, matched, reason, steps, settled in runs:
                    run_rows.append({"event_record_id": rec.id, "strategy_id": strategy.id, "strategy_name": strategy.name,
                                     "strategy_version": strategy.version, "matched": matched, "reason": reason,
                                     "created_at": now})
                    planned.append((rec.id, strategy, steps, settled))
            if not run_rows:
                return []
            # One batch insert for the runs and one for the steps, ids back in row order
            # (engine.bulk_rows), instead of one statement per run and per run's steps.
            run_ids = RUN_ROWS.insert(conn, run_rows)
            task_rows, attempts = [], []  # attempts: (index in task_rows, row) of the steps settled inline
            for (record_id, strategy, steps, settled), run_id in zip(planned, run_ids):
                for step in steps:
                    values, attempt = settled.get(step.step_index, (None, None))
                    if attempt is not None:
                        attempts.append((len(task_rows), attempt))
                    task_rows.append(self._task_row(record_id, run_id, strategy, step, now, lease, values))
            if not task_rows:
                return []
            task_ids = TASK_ROWS.insert(conn, task_rows)
            ATTEMPT_ROWS.insert(conn, [{**row, "task_id": task_ids[i]} for i, row in attempts], return_ids=False)
        records = {rec.id: rec for rec, *_ in plans}
        return [(SimpleNamespace(**row, id=task_id), records[row["event_record_id"]])
                for row, task_id in zip(task_rows, task_ids) if row["status"] == "running"]

    def _task_row(self, record_id, run_id, strategy, step, now, lease, settled: dict | None = None) -> dict:
        """The step's row: claimed by this process when it is due now (the executor runs it next),
        or, with `settled`, already finished (or waiting) by engine.inline_steps."""
        rt = self.runtime
        immediate = step.status == "pending" and step.due_at <= now and settled is None
        try:
            name = rt.registry.get(step.processor_key).name
        except LookupError:
            name = step.processor_key
        return {
            "event_record_id": record_id, "strategy_run_id": run_id, "strategy_id": strategy.id,
            "step_index": step.step_index, "processor_key": step.processor_key, "processor_name": name,
            "config": step.config, "timing": step.timing, "due_at": step.due_at,
            "status": "running" if immediate else step.status, "attempts": 0,
            "max_attempts": rt.registry.max_attempts(step.processor_key),
            "lease_until": lease if immediate else None, "lease_owner": rt.owner if immediate else "",
            "idempotency_key": f"{record_id}:{strategy.id}:{step.step_index}",
            "rendered": {}, "result": {}, "last_error": "", "note": step.note, "created_at": now,
            "started_at": now if immediate else None, "finished_at": now if step.status == "skipped" else None,
            **(settled or {}),
        }
