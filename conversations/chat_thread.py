"""One conversation's messages for the chat window: newest page first, older pages by `before`
(a message id), each outbound message with its present state (发送中 / 已延后 with the budget's
reason / 已拒绝 / 已发送 / 发送失败 with the phone's reason) read from its device command."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from config.clock import as_utc, format_local, utcnow
from conversations.chat_scope import get_conversation
from conversations.models import DIRECTIONS, MESSAGE_STATES, MESSAGE_TYPES, ChatMessage, Conversation
from conversations.outbound import message_state
from crm.scope import Viewer
from devices.models import DeviceCommand

PAGE = 30
PENDING = ("queued", "deferred")
PACED_AFTER = timedelta(seconds=1)  # a slot this far ahead is shown as 已延后 (the phone won't get it at once)
# A phone's result code → what staff read (the phone's own text is kept after it).
FAILURE_CODES = {"friend_deleted": "对方已删除好友", "account_not_on_device": "该微信号已不在手机上"}


def commands_for(session: Session, messages: list[ChatMessage]) -> dict[int, DeviceCommand]:
    ids = {m.command_id for m in messages if m.command_id}
    if not ids:
        return {}
    return {c.id: c for c in session.exec(select(DeviceCommand).where(DeviceCommand.id.in_(ids)))}


def state_of(message: ChatMessage, command: Optional[DeviceCommand], now: Optional[datetime] = None,
             tz: Optional[str] = None) -> tuple[str, str]:
    """(state, reason) now. A command the risk budget paced to a later slot (the account's send gap)
    reads 已延后 with when it goes, until that slot comes."""
    state, reason = message_state(message, command)
    if (state == "queued" and command is not None and command.status == "queued" and command.not_before is not None
            and as_utc(command.not_before) > as_utc(now or utcnow()) + PACED_AFTER):
        when = format_local(command.not_before, "%H:%M:%S", tz)
        return "deferred", f"风控发送间隔：同一微信号连续发送需间隔数秒，约 {when} 发出"
    code = str(((command.result or {}) if command is not None else {}).get("code") or "")
    if state == "failed" and code in FAILURE_CODES:
        label = FAILURE_CODES[code]
        reason = reason if label in reason else (f"{label}（{reason}）" if reason else label)
    return state, reason


def message_dict(message: ChatMessage, command: Optional[DeviceCommand] = None, now: Optional[datetime] = None) -> dict:
    state, reason = state_of(message, command, now) if message.direction == "out" else (message.status, message.reason)
    return {"id": message.id, "conversation_id": message.conversation_id, "direction": message.direction,
            "direction_label": DIRECTIONS.get(message.direction, ""), "msg_type": message.msg_type,
            "type_label": MESSAGE_TYPES.get(message.msg_type, ""), "text": message.text,
            "payload": dict(message.payload or {}), "sender_id": message.sender_id, "sender_name": message.sender_name,
            "sent_at": message.sent_at, "status": state, "status_label": MESSAGE_STATES.get(state, state),
            "reason": reason, "command_id": message.command_id, "user_id": message.user_id}


def page(session: Session, conversation: Conversation, before: Optional[int] = None, limit: int = PAGE,
         now: Optional[datetime] = None) -> list[dict]:
    """Up to `limit` messages older than message `before` (all newest when None), oldest first."""
    query = select(ChatMessage).where(ChatMessage.conversation_id == conversation.id)
    if before:
        anchor = session.exec(select(ChatMessage).where(ChatMessage.id == before,
                                                        ChatMessage.conversation_id == conversation.id)).first()
        if anchor is None:
            return []
        query = query.where(or_(ChatMessage.sent_at < anchor.sent_at,
                                and_(ChatMessage.sent_at == anchor.sent_at, ChatMessage.id < anchor.id)))
    rows = list(session.exec(query.order_by(ChatMessage.sent_at.desc(), ChatMessage.id.desc())
                             .limit(max(1, min(limit, 100)))).all())
    rows.reverse()
    commands = commands_for(session, rows)
    return [message_dict(m, commands.get(m.command_id), now) for m in rows]


def load_messages(session: Session, ids: list[int], now: Optional[datetime] = None) -> list[dict]:
    """Messages by id (the live channel's lookup), with their states."""
    if not ids:
        return []
    rows = list(session.exec(select(ChatMessage).where(ChatMessage.id.in_(ids))).all())
    commands = commands_for(session, rows)
    return [message_dict(m, commands.get(m.command_id), now) for m in rows]


def thread(session: Session, viewer: Viewer, conversation_id, before: Optional[int] = None,
           limit: int = PAGE, now: Optional[datetime] = None) -> tuple[Conversation, list[dict]]:
    conversation = get_conversation(session, viewer, conversation_id)
    return conversation, page(session, conversation, before, limit, now)


def mark_read(session: Session, viewer: Viewer, conversation_id) -> Conversation:
    """Clears the unread count (only the staff member's opening of it, never a phone's report, does)."""
    conversation = get_conversation(session, viewer, conversation_id)
    if conversation.unread_count:
        session.execute(update(Conversation).where(Conversation.id == conversation.id).values(unread_count=0))
        session.refresh(conversation)
    return conversation


def pending_commands(session: Session, conversation_id: int) -> dict[int, int]:
    """command id → message id of this conversation's outbound messages still on their way."""
    rows = session.exec(select(ChatMessage.command_id, ChatMessage.id).where(
        ChatMessage.conversation_id == conversation_id, ChatMessage.direction == "out",
        ChatMessage.status.in_(PENDING), ChatMessage.command_id.is_not(None))).all()
    return {cid: mid for cid, mid in rows}
