"""Storing one message: the conversation it belongs to is found or created (INSERT … ON CONFLICT, so
two reports racing for a new peer make one conversation), the message is written once (a repeated
external id returns the stored one), and the conversation's summary (last message, unread, 未回复
times) moves forward — never backwards, because reports arrive out of order after a reconnect.

Listeners registered with `on_message` are called after the transaction commits (the live chat uses
this to push the message to browsers); nothing is announced for a rolled-back write."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Optional

from sqlalchemy import event
from sqlmodel import Session, select

from config.clock import as_utc, utcnow
from config.dialect_insert import insert_for
from conversations.models import MESSAGE_TYPES, ChatMessage, Conversation

log = logging.getLogger(__name__)
PREVIEW = 200
TEXT_LIMIT = 20000  # an oversized message is kept, cut here, and says so in its payload


@dataclass
class NewMessage:
    channel: str
    account_id: int
    kind: str  # private / group
    peer_id: str
    direction: str  # in / out
    msg_type: str = "text"
    text: str = ""
    payload: dict = field(default_factory=dict)
    sent_at: Optional[datetime] = None
    external_id: Optional[str] = None
    title: str = ""
    sender_id: str = ""
    sender_name: str = ""
    friend_id: Optional[int] = None
    group_id: Optional[int] = None
    customer_id: Optional[int] = None
    status: str = ""  # default: received (in) / sent (out)
    reason: str = ""
    command_id: Optional[int] = None
    user_id: Optional[int] = None


@dataclass(frozen=True)
class StoredMessage:
    """What a listener learns after commit (no database objects cross threads)."""

    message_id: int
    conversation_id: int
    channel: str
    account_id: int
    direction: str
    customer_id: Optional[int]


_listeners: list[Callable[[StoredMessage], None]] = []
_lock = threading.Lock()


def on_message(callback: Callable[[StoredMessage], None]) -> Callable[[], None]:
    """Calls `callback` after commit for every newly stored message; returns an unregister function."""
    with _lock:
        _listeners.append(callback)

    def unregister() -> None:
        with _lock:
            if callback in _listeners:
                _listeners.remove(callback)
    return unregister


def announce(session: Session, stored: StoredMessage) -> None:
    """Queues `stored` for the listeners once `session` commits (also used when a status changes)."""
    pending = session.info.setdefault("ckb_chat_messages", [])
    pending.append(stored)
    if len(pending) == 1:
        event.listen(session, "after_commit", _after_commit, once=True)
        event.listen(session, "after_soft_rollback", lambda s, _t: s.info.pop("ckb_chat_messages", None), once=True)


def _after_commit(session: Session) -> None:
    pending = session.info.pop("ckb_chat_messages", [])
    with _lock:
        listeners = list(_listeners)
    for item in pending:
        for callback in listeners:
            try:
                callback(item)
            except Exception:  # noqa: BLE001 - a broken listener must not undo a stored message
                log.exception("chat message listener failed", extra={"message_id": item.message_id})


def conversation_for(session: Session, msg: NewMessage, now: datetime) -> Conversation:
    """The conversation of (channel, account, kind, peer), created when new (race-safe)."""
    table = Conversation.__table__
    insert = insert_for(session)(table).values(
        channel=msg.channel, account_id=msg.account_id, kind=msg.kind, peer_id=msg.peer_id[:64],
        title=(msg.title or "")[:200], friend_id=msg.friend_id, group_id=msg.group_id,
        customer_id=msg.customer_id, unread_count=0, needs_human=False, needs_human_reason="",
        last_message_text="", last_direction="", created_at=now, updated_at=now)
    session.execute(insert.on_conflict_do_nothing(index_elements=["channel", "account_id", "kind", "peer_id"]))
    return session.exec(select(Conversation).where(
        Conversation.channel == msg.channel, Conversation.account_id == msg.account_id,
        Conversation.kind == msg.kind, Conversation.peer_id == msg.peer_id[:64])).one()


def _later(current: Optional[datetime], candidate: datetime) -> bool:
    return current is None or as_utc(candidate) >= as_utc(current)


def preview(msg_type: str, text: str, payload: dict) -> str:
    if msg_type == "text":
        return text[:PREVIEW]
    label = MESSAGE_TYPES.get(msg_type, MESSAGE_TYPES["other"])
    title = payload.get("title") or payload.get("file_name") or ""
    return f"[{label}]{(' ' + str(title)) if title else ''}"[:PREVIEW]


def record_message(session: Session, msg: NewMessage, now: Optional[datetime] = None) -> tuple[ChatMessage, bool]:
    """Stores `msg` once; returns (the stored message, whether it is new). Runs in the caller's transaction."""
    now = now or utcnow()
    sent_at = as_utc(msg.sent_at or now)
    conversation = conversation_for(session, msg, now)
    if msg.external_id:
        existing = session.exec(select(ChatMessage).where(
            ChatMessage.channel == msg.channel, ChatMessage.account_id == msg.account_id,
            ChatMessage.external_id == msg.external_id[:64])).first()
        if existing is not None:
            return existing, False
    msg_type = msg.msg_type if msg.msg_type in MESSAGE_TYPES else "other"
    payload = dict(msg.payload or {})
    if msg_type != msg.msg_type:
        payload.setdefault("raw_type", str(msg.msg_type)[:32])
    text = msg.text or ""
    if len(text) > TEXT_LIMIT:
        payload["truncated_from"] = len(text)
        text = text[:TEXT_LIMIT]
    row = ChatMessage(
        conversation_id=conversation.id, channel=msg.channel, account_id=msg.account_id,
        external_id=(msg.external_id or None) and msg.external_id[:64], direction=msg.direction,
        sender_id=msg.sender_id[:64], sender_name=msg.sender_name[:100], msg_type=msg_type, text=text,
        payload=payload, sent_at=sent_at, created_at=now,
        status=msg.status or ("received" if msg.direction == "in" else "sent"), reason=msg.reason[:500],
        command_id=msg.command_id, user_id=msg.user_id)
    if msg.external_id:
        # A duplicate racing this one from another connection: the unique key decides, the loser reads.
        values = {c.name: getattr(row, c.name) for c in ChatMessage.__table__.columns if c.name != "id"}
        result = session.execute(insert_for(session)(ChatMessage.__table__).values(**values)
                                 .on_conflict_do_nothing(index_elements=["channel", "account_id", "external_id"])
                                 .returning(ChatMessage.__table__.c.id))
        new_id = result.scalar()
        if new_id is None:
            return session.exec(select(ChatMessage).where(
                ChatMessage.channel == msg.channel, ChatMessage.account_id == msg.account_id,
                ChatMessage.external_id == msg.external_id[:64])).one(), False
        row = session.get(ChatMessage, new_id)
    else:
        session.add(row)
        session.flush()
    _summarise(conversation, msg, row, now)
    session.add(conversation)
    announce(session, StoredMessage(row.id, conversation.id, row.channel, row.account_id, row.direction,
                                    conversation.customer_id))
    return row, True


def _summarise(conversation: Conversation, msg: NewMessage, row: ChatMessage, now: datetime) -> None:
    if msg.title:
        conversation.title = msg.title[:200]
    for name in ("friend_id", "group_id", "customer_id"):
        if getattr(msg, name) is not None and getattr(conversation, name) is None:
            setattr(conversation, name, getattr(msg, name))
    if _later(conversation.last_message_at, row.sent_at):
        conversation.last_message_at = row.sent_at
        conversation.last_message_text = preview(row.msg_type, row.text, row.payload)
        conversation.last_direction = row.direction
    if row.direction == "in":
        conversation.unread_count += 1
        if _later(conversation.last_inbound_at, row.sent_at):
            conversation.last_inbound_at = row.sent_at
    elif _later(conversation.last_outbound_at, row.sent_at):
        conversation.last_outbound_at = row.sent_at
    conversation.updated_at = now
