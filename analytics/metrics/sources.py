"""The raw rows several metrics read: private messages our accounts received (device.message events
in the ledger, the only place a message is kept) and messages they sent (succeeded send_* commands).
Both are read by time range with the (event_code, occurred_at) and finished_at indexes."""
from __future__ import annotations

from datetime import datetime
from typing import Iterator, NamedTuple

from sqlmodel import Session, col, select

from analytics.metrics.base import between
from config.clock import as_utc
from devices.models import DeviceCommand
from events.models import EventRecord

SEND_KINDS = ("send_text", "send_image", "send_link", "send_miniprogram")


class Message(NamedTuple):
    when: datetime
    account_id: int
    wxid: str  # the friend / customer on the other side
    chatroom_id: str  # "" for a private message
    row_id: int


def cached(ctx, source, session: Session, start: datetime, end: datetime) -> list[Message]:
    """`source`'s rows for [start, end), read once per recompute (ctx.cache)."""
    key = (source.__name__, start, end)
    if key not in ctx.cache:
        ctx.cache[key] = list(source(session, start, end))
    return ctx.cache[key]


def received(session: Session, start: datetime, end: datetime) -> Iterator[Message]:
    """Messages our accounts received (private and group), by when they happened on the phone."""
    stmt = (select(EventRecord.id, EventRecord.occurred_at, EventRecord.data)
            .where(EventRecord.event_code == "device.message", EventRecord.status == "accepted",
                   between(EventRecord.occurred_at, start, end)))
    for row_id, when, data in session.exec(stmt):
        data = data or {}
        account_id, wxid = data.get("account_id"), data.get("from_wxid")
        if isinstance(account_id, int) and wxid:
            yield Message(as_utc(when), account_id, str(wxid), str(data.get("chatroom_id") or ""), row_id)


def sent(session: Session, start: datetime, end: datetime) -> Iterator[Message]:
    """Private messages our accounts sent that the phone confirmed (a send to a group is not a reach)."""
    stmt = (select(DeviceCommand.id, DeviceCommand.finished_at, DeviceCommand.account_id, DeviceCommand.payload)
            .where(col(DeviceCommand.kind).in_(SEND_KINDS), DeviceCommand.status == "succeeded",
                   between(DeviceCommand.finished_at, start, end)))
    for row_id, when, account_id, payload in session.exec(stmt):
        to = str((payload or {}).get("to") or "")
        if to and not to.endswith("@chatroom"):
            yield Message(as_utc(when), account_id, to, "", row_id)
