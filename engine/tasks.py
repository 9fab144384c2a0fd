"""策略任务 and 死信: listing step tasks, cancelling pending ones, replaying dead letters."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import func, select, update
from sqlmodel import Session

from engine.models import CLAIMABLE_STATUSES, StepAttempt, StrategyTask
from events.models import EventRecord
from rules.models import Strategy

TASKS = StrategyTask.__table__


@dataclass
class TaskFilter:
    status: Optional[str] = None
    strategy_id: Optional[int] = None
    event_code: Optional[str] = None
    delayed_only: bool = False
    since: Optional[datetime] = None
    until: Optional[datetime] = None
    page: int = 1
    per_page: int = 20


def list_tasks(session: Session, f: TaskFilter) -> tuple[list[dict], int]:
    stmt = (select(StrategyTask, Strategy.name, EventRecord.event_code)
            .join(Strategy, Strategy.id == StrategyTask.strategy_id, isouter=True)
            .join(EventRecord, EventRecord.id == StrategyTask.event_record_id, isouter=True))
    conds = []
    if f.status:
        conds.append(StrategyTask.status == f.status)
    if f.strategy_id:
        conds.append(StrategyTask.strategy_id == f.strategy_id)
    if f.event_code:
        conds.append(EventRecord.event_code == f.event_code)
    if f.delayed_only:
        conds.append(StrategyTask.timing != "immediate")
    if f.since:
        conds.append(StrategyTask.created_at >= f.since)
    if f.until:
        conds.append(StrategyTask.created_at < f.until)
    stmt = stmt.where(*conds)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar() or 0
    rows = session.execute(stmt.order_by(StrategyTask.id.desc()).offset((f.page - 1) * f.per_page).limit(f.per_page)).all()
    return [{"task": t, "strategy_name": name or "（已删除）", "event_code": code} for t, name, code in rows], total


def cancel_tasks(session: Session, task_ids: list[int], who: str = "") -> int:
    note = f"由 {who} 手动取消" if who else "手动取消"
    return session.execute(
        update(TASKS).where(TASKS.c.id.in_(task_ids), TASKS.c.status.in_(CLAIMABLE_STATUSES))
        .values(status="cancelled", note=note, lease_until=None)
    ).rowcount


def replay_dead(session: Session, task_ids: list[int], now: datetime, extra_attempts: int, who: str = "") -> int:
    """Dead letters get `extra_attempts` more tries, due now; earlier attempts stay in history."""
    note = f"由 {who} 重放" if who else "重放"
    return session.execute(
        update(TASKS).where(TASKS.c.id.in_(task_ids), TASKS.c.status == "dead")
        .values(status="pending", max_attempts=TASKS.c.attempts + extra_attempts, due_at=now, note=note,
                last_error="", finished_at=None)
    ).rowcount


def task_attempts(session: Session, task_id: int) -> list[StepAttempt]:
    return list(session.execute(select(StepAttempt).where(StepAttempt.task_id == task_id).order_by(StepAttempt.number)).scalars())


def status_counts(session: Session, since: Optional[datetime] = None) -> dict[str, int]:
    stmt = select(TASKS.c.status, func.count()).group_by(TASKS.c.status)
    if since:
        stmt = stmt.where(TASKS.c.created_at >= since)
    return {status: n for status, n in session.execute(stmt).all()}
