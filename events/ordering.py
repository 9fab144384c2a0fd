"""事件发生顺序: a late event never undoes a change that happened after it.

Events arrive out of order (a phone re-sends after a reconnect, an app retries, workers run in
parallel), but each carries when it happened (occurred_at). Wherever state is set — a customer's
tag, group, salesperson — the time of the change that set it is kept per (kind, object,
attribute) in StateVersion. A change that happened earlier than the kept one is skipped, and the
step says so in history: 已被更晚发生的事件取代（…）. An operator's own change counts as happening
when it is made.

A processor acting for an event calls `act_as_of(session, occurred_at)` on its write session:
every change the customer center records in that transaction is then stamped with the event's
time instead of the wall clock, so the next event (which happened later) is not mistaken for an
older one. `claim` runs inside the caller's write transaction: the upsert takes the row lock on PostgreSQL,
so two workers applying changes to the same attribute are serialised and the later one wins
whatever order they commit in.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import String, cast, literal, select, true
from sqlmodel import Session

from config.clock import as_utc, to_local
from config.dialect_insert import insert_for
from events.models import StateVersion

TABLE = StateVersion.__table__
KEY = ["kind", "object_id", "attribute"]
_EVENT_TIME = "ckb_event_time"  # session.info key: the time of the event this transaction acts for


def act_as_of(session: Session, occurred_at: datetime) -> None:
    """Changes stamped in this transaction happened when the event did (see the module doc)."""
    session.info[_EVENT_TIME] = as_utc(occurred_at)


def change_time(session: Session, now: datetime) -> datetime:
    """When a change made in this transaction happened: the event's time, else `now`."""
    return session.info.get(_EVENT_TIME) or as_utc(now)


def _insert(session: Session):
    return insert_for(session)(TABLE)


def _newer_wins(stmt):
    """ON CONFLICT: the stored time moves forward only (an earlier change never rewinds it)."""
    return stmt.on_conflict_do_update(
        index_elements=KEY,
        set_={"occurred_at": stmt.excluded.occurred_at, "event_record_id": stmt.excluded.event_record_id,
              "updated_at": stmt.excluded.updated_at},
        where=TABLE.c.occurred_at <= stmt.excluded.occurred_at)


def claim(session: Session, kind: str, object_id: int, attribute, occurred_at: datetime, *,
          record_id: Optional[int] = None, now: Optional[datetime] = None) -> Optional[datetime]:
    """Takes (kind, object, attribute) for a change that happened at `occurred_at`. Returns None
    when the change may go ahead (nothing later holds it; equal times go ahead in arrival
    order), else the time of the later change that holds it — skip the change then."""
    when = as_utc(occurred_at)
    stmt = _insert(session).values(kind=kind, object_id=int(object_id), attribute=str(attribute), occurred_at=when,
                                   event_record_id=record_id, updated_at=as_utc(now or when))
    if session.execute(_newer_wins(stmt).returning(TABLE.c.id)).first() is not None:
        return None
    later = session.execute(select(TABLE.c.occurred_at).where(
        TABLE.c.kind == kind, TABLE.c.object_id == int(object_id), TABLE.c.attribute == str(attribute))).scalar()
    return as_utc(later) if later is not None else None


def stamp_select(session: Session, kind: str, rows, occurred_at: datetime, attribute=None) -> None:
    """Records an operator's or a job's change for many objects at once: `rows` is a SELECT of
    (object_id[, attribute]) — or of object ids only, with one `attribute` for all. Set-based
    (one INSERT … SELECT … ON CONFLICT), so tagging 100,000 customers stays a few statements.
    Inside a transaction acting for an event (`act_as_of`), the event's time is used."""
    when = change_time(session, occurred_at)
    cols = list(rows.selected_columns)
    attr = literal(str(attribute)) if attribute is not None else cast(cols[1], String)
    # WHERE true: SQLite cannot tell an upsert's ON CONFLICT from a join's ON without a WHERE.
    source = rows.with_only_columns(literal(kind), cols[0], attr, literal(when, TABLE.c.occurred_at.type),
                                    literal(None, TABLE.c.event_record_id.type),
                                    literal(when, TABLE.c.updated_at.type)).where(true()).distinct()
    stmt = _insert(session).from_select(KEY + ["occurred_at", "event_record_id", "updated_at"], source)
    session.execute(_newer_wins(stmt))


def superseded_note(what: str, later: datetime, tz: str) -> str:
    """The history line of a skipped change: what was skipped and when the later change happened."""
    return f"已被更晚发生的事件取代（{what}：该项已于 {to_local(later, tz):%Y-%m-%d %H:%M:%S} 被更晚的变更设置，本事件发生得更早，未执行）"
