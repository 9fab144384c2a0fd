"""Counters the workbench steps share across worker processes: daily caps (自动点赞 per account
and per friend, 流量分发 per target), cool-downs (关键词回复 per customer) and the weighted
round-robin tallies of 流量分发. They live in BudgetCounter rows under scopes starting "wb:",
taken with one conditional UPDATE so two workers can never both take the last unit of a cap."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import select, update
from sqlmodel import Session

from config.dialect_insert import insert_for
from devices.models import BudgetCounter

TABLE = BudgetCounter.__table__
FOREVER = date(2000, 1, 1)  # the day of counters that are not per day (round-robin tallies)


def ensure(session: Session, scope: str, day: date, kind: str) -> None:
    values = {"scope": scope[:100], "day": day, "kind": kind[:32], "count": 0}
    session.execute(insert_for(session)(TABLE).values(**values).on_conflict_do_nothing(index_elements=["scope", "day", "kind"]))


def take(session: Session, scope: str, day: date, kind: str, cap: Optional[int], now: datetime) -> bool:
    """Adds one unless the count has reached `cap` (None: no cap); True when taken."""
    ensure(session, scope, day, kind)
    stmt = update(TABLE).where(TABLE.c.scope == scope[:100], TABLE.c.day == day, TABLE.c.kind == kind[:32])
    if cap is not None:
        stmt = stmt.where(TABLE.c.count < cap)
    return session.execute(stmt.values(count=TABLE.c.count + 1, last_at=now)).rowcount == 1


def take_after(session: Session, scope: str, kind: str, not_after: datetime, now: datetime) -> bool:
    """A cool-down: takes the slot only if it was last taken at or before `not_after`."""
    ensure(session, scope, FOREVER, kind)
    stmt = (update(TABLE).where(TABLE.c.scope == scope[:100], TABLE.c.day == FOREVER, TABLE.c.kind == kind[:32])
            .where((TABLE.c.last_at.is_(None)) | (TABLE.c.last_at <= not_after)))
    return session.execute(stmt.values(count=TABLE.c.count + 1, last_at=now)).rowcount == 1


def counts(session: Session, scope: str, day: date, kinds: list[str], lock: bool = False) -> dict[str, int]:
    """Current counts (0 when missing); `lock` holds the rows until the transaction ends (PostgreSQL)."""
    for kind in kinds:
        ensure(session, scope, day, kind)
    stmt = select(TABLE.c.kind, TABLE.c.count).where(TABLE.c.scope == scope[:100], TABLE.c.day == day,
                                                     TABLE.c.kind.in_([k[:32] for k in kinds]))
    if lock:
        stmt = stmt.order_by(TABLE.c.kind).with_for_update()
    return {k: c for k, c in session.execute(stmt)}


def add(session: Session, scope: str, day: date, kind: str, now: datetime, amount: int = 1) -> None:
    ensure(session, scope, day, kind)
    session.execute(update(TABLE).where(TABLE.c.scope == scope[:100], TABLE.c.day == day, TABLE.c.kind == kind[:32])
                    .values(count=TABLE.c.count + amount, last_at=now))
