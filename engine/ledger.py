"""Claims on the ledger: which process runs which event or task, with leases.

A claim is one UPDATE … RETURNING over a sub-select (with FOR UPDATE SKIP LOCKED on
PostgreSQL, under SQLite's single write lock otherwise). A claim whose lease expires — the
process died — is claimable again, so a crash loses nothing.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, select, update

from config.db import Database
from engine.models import CLAIMABLE_STATUSES, StrategyTask
from events.models import EventRecord

TASKS = StrategyTask.__table__
EVENTS = EventRecord.__table__
CHUNK = 500  # ids per statement (SQLite's bound-parameter limit is far above; plans stay small)


def _claim(db: Database, table, condition, order, values: dict, limit: int, returning: tuple = ()) -> list:
    """Ids claimed (sorted), or with `returning` those columns' rows (sorted by id, the first)."""
    sub = select(table.c.id).where(condition).order_by(*order).limit(limit)
    if db.is_postgres:
        sub = sub.with_for_update(skip_locked=True)
    stmt = (update(table).where(table.c.id.in_(sub.scalar_subquery())).values(**values)
            .returning(*(returning or (table.c.id,))))
    with db.write() as session:
        rows = session.execute(stmt).all()
    return sorted(rows, key=lambda r: r[0]) if returning else sorted(r[0] for r in rows)


# What the dispatcher needs of a claimed event, returned by the claim itself (no second read).
EVENT_COLUMNS = (EVENTS.c.id, EVENTS.c.event_code, EVENTS.c.data, EVENTS.c.received_at)


def claim_events(db: Database, now: datetime, lease_seconds: int, limit: int) -> list:
    """Claims up to `limit` events in arrival order; their rows (EVENT_COLUMNS), sorted by id."""
    lease = now + timedelta(seconds=lease_seconds)
    cond = or_(EVENTS.c.dispatch_status == "pending",
               and_(EVENTS.c.dispatch_status == "claimed", EVENTS.c.claimed_until < now))
    return _claim(db, EVENTS, cond, [EVENTS.c.id], {"dispatch_status": "claimed", "claimed_until": lease}, limit,
                  EVENT_COLUMNS)


def claim_due_tasks(db: Database, now: datetime, lease_seconds: int, owner: str, limit: int,
                    exclude: list[int] | tuple = ()) -> list[int]:
    """Due tasks, and running ones whose lease ran out (their holder died) — except `exclude`,
    the tasks `owner` still holds: a late lease of our own is never a reason to run it twice."""
    lease = now + timedelta(seconds=lease_seconds)
    expired = and_(TASKS.c.status == "running", TASKS.c.lease_until < now)
    if exclude:
        expired = and_(expired, or_(TASKS.c.lease_owner != owner, TASKS.c.id.not_in(list(exclude))))
    cond = or_(and_(TASKS.c.status.in_(CLAIMABLE_STATUSES), TASKS.c.due_at <= now), expired)
    values = {"status": "running", "lease_until": lease, "lease_owner": owner}
    return _claim(db, TASKS, cond, [TASKS.c.due_at, TASKS.c.id], values, limit)


def _update_held(db: Database, owner: str, task_ids: list[int], values: dict) -> int:
    """Updates the running tasks among `task_ids` that `owner` still holds, in chunks."""
    n = 0
    for start in range(0, len(task_ids), CHUNK):
        with db.write() as session:
            n += session.execute(update(TASKS).where(
                TASKS.c.id.in_(task_ids[start:start + CHUNK]), TASKS.c.status == "running",
                TASKS.c.lease_owner == owner).values(**values)).rowcount
    return n


def extend_leases(db: Database, owner: str, task_ids: list[int], until: datetime) -> int:
    """The heartbeat: tasks still held by `owner` keep their lease while it works on them."""
    return _update_held(db, owner, task_ids, {"lease_until": until})


def release_tasks(db: Database, owner: str, task_ids: list[int], note: str) -> int:
    """Hands claimed, not started tasks back (shutdown): claimable at once, no attempt spent."""
    return _update_held(db, owner, task_ids, {
        "status": case((TASKS.c.attempts > 0, "failed"), else_="pending"), "lease_until": None, "lease_owner": "",
        "note": note})


def next_due_at(db: Database) -> datetime | None:
    with db.read() as session:
        return session.execute(
            select(TASKS.c.due_at).where(TASKS.c.status.in_(CLAIMABLE_STATUSES)).order_by(TASKS.c.due_at).limit(1)
        ).scalar()
