"""Steps a producer plans itself instead of a strategy match: 定向营销 sends one message per
customer of a plan. They are ledger rows like any matched step — the event (stored through the
one ingestion door), a run named after the producer, one StrategyTask with its idempotency key —
so the executor runs them with retries and dead letters, and 事件历史 shows every attempt.

strategy_id 0 marks "no strategy": the run's name says who planned the step.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from engine.models import StrategyRun, StrategyTask
from events.models import EventRecord

EVENTS = EventRecord.__table__
TASKS = StrategyTask.__table__
NO_STRATEGY = 0


def plan_step(session: Session, record_id: int, planner: str, processor, config: dict, idempotency_key: str,
              now: datetime, max_attempts: int) -> None:
    """Marks the stored event dispatched (matched by `planner`) and plans its one immediate step,
    in the caller's transaction (the event was stored in it too, so no dispatcher saw it pending)."""
    session.execute(update(EVENTS).where(EVENTS.c.id == record_id).values(
        dispatch_status="done", dispatched_at=now, outcome="matched", outcome_note=planner[:500], matched_count=1))
    run = StrategyRun(event_record_id=record_id, strategy_id=NO_STRATEGY, strategy_name=planner[:200], matched=True,
                      created_at=now)
    session.add(run)
    session.flush()
    session.add(StrategyTask(event_record_id=record_id, strategy_run_id=run.id, strategy_id=NO_STRATEGY,
                             step_index=0, processor_key=processor.key, processor_name=processor.name, config=config,
                             timing="immediate", due_at=now, status="pending", max_attempts=max_attempts,
                             idempotency_key=idempotency_key, created_at=now))
    session.flush()


def step_outcomes(session: Session, key_prefix: str) -> dict[str, list]:
    """Status → [(idempotency key, last error)] of the steps whose key starts with `key_prefix`."""
    out: dict[str, list] = {}
    rows = session.execute(select(TASKS.c.status, TASKS.c.idempotency_key, TASKS.c.last_error)
                           .where(TASKS.c.idempotency_key.like(key_prefix.replace("%", r"\%") + "%", escape="\\"))
                           .order_by(TASKS.c.id))
    for status, key, error in rows:
        out.setdefault(status, []).append((key, error))
    return out

