"""When a step's event happened, for processors that set state (events/ordering.py).

The event's own occurred_at, but never later than it arrived (nor than now): a sender whose
clock runs ahead must not make its changes look newer than everything that really happened after. Steps
without a stored event (a dry run, a direct call) count as happening now.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from config.clock import as_utc
from events.models import EventRecord
from handlers.base import ProcessorContext

EVENTS = EventRecord.__table__


def occurred_at(ctx: ProcessorContext, session: Session) -> datetime:
    row = session.execute(select(EVENTS.c.occurred_at, EVENTS.c.received_at)
                          .where(EVENTS.c.id == ctx.event_record_id)).first() if ctx.event_record_id else None
    now = as_utc(ctx.services.now())
    if row is None:
        return now
    return min(as_utc(row.occurred_at), as_utc(row.received_at), now)

