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
from events import ordering
from events.models import EventRecord
from handlers.base import Outcome, ProcessorContext

EVENTS = EventRecord.__table__


def occurred_at(ctx: ProcessorContext, session: Session) -> datetime:
    row = session.execute(select(EVENTS.c.occurred_at, EVENTS.c.received_at)
                          .where(EVENTS.c.id == ctx.event_record_id)).first() if ctx.event_record_id else None
    now = as_utc(ctx.services.now())
    if row is None:
        return now
    return min(as_utc(row.occurred_at), as_utc(row.received_at), now)



def act_for_event(ctx: ProcessorContext, session: Session) -> None:
    """The write transaction acts as of the event: what it changes is stamped with the event's time."""
    ordering.act_as_of(session, occurred_at(ctx, session))


def superseded(ctx: ProcessorContext, session: Session, kind: str, object_id: int, attribute, what: str):
    """An Outcome saying the step was skipped because a later change decided (kind, object,
    attribute) — or None when this event's change may go ahead (and now holds it)."""
    when = ordering.change_time(session, ctx.services.now())
    later = ordering.claim(session, kind, object_id, attribute, when, record_id=ctx.event_record_id or None)
    if later is None:
        return None
    return Outcome(response={"superseded": True},
                   note=ordering.superseded_note(what, later, ctx.services.settings.timezone))
