"""转接: handing a conversation to a colleague. The colleague becomes its assignee (they see it in
their 触客宝 even when the account is not theirs), the handover is logged (who, to whom, when, why)
and the colleague gets a 站内通知 linking straight to the conversation."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from sqlmodel import Session, select

from config.clock import utcnow
from conversations.chat_list import user_names
from conversations.chat_models import ConversationTransfer
from conversations.chat_scope import get_conversation
from conversations.errors import ConversationError
from conversations.models import Conversation
from crm.people.models import Notification, User
from crm.scope import Viewer


def transfer(session: Session, viewer: Viewer, conversation_id, to_user_id, *, colleagues: Iterable[int],
             note: str = "", now: Optional[datetime] = None) -> ConversationTransfer:
    """`colleagues`: the users who may chat (conversations.view / view_all), looked up by the caller."""
    now = now or utcnow()
    conversation = get_conversation(session, viewer, conversation_id)
    try:
        target = int(to_user_id)
    except (TypeError, ValueError):
        raise ConversationError("请选择要转接的同事", {"to_user_id": "请选择要转接的同事"}) from None
    user = session.get(User, target)
    if user is None or not user.enabled or target not in set(colleagues):
        raise ConversationError("该同事不存在或没有会话权限", {"to_user_id": "该同事不存在或没有会话权限"})
    if target == conversation.assignee_id:
        raise ConversationError("会话已由该同事负责", {"to_user_id": "会话已由该同事负责"})
    note = (note or "").strip()
    if len(note) > 300:
        raise ConversationError("转接说明不能超过 300 字", {"note": "最多 300 字"})
    record = ConversationTransfer(conversation_id=conversation.id, from_user_id=conversation.assignee_id,
                                  to_user_id=target, by_user_id=viewer.user_id, note=note, created_at=now)
    conversation.assignee_id = target
    conversation.updated_at = now
    session.add_all([record, conversation])
    by = user_names(session, [viewer.user_id]).get(viewer.user_id, "系统") if viewer.user_id else "系统"
    title = conversation.title or conversation.peer_id
    session.add(Notification(user_id=target, title=f"{by} 把会话「{title}」转接给你"[:200],
                             body=note or "请在触客宝中继续跟进。", link=f"/chat?conversation={conversation.id}",
                             source="chat.transfer", created_at=now))
    session.flush()
    return record


def history(session: Session, conversation: Conversation, limit: int = 20) -> list[dict]:
    rows = list(session.exec(select(ConversationTransfer).where(ConversationTransfer.conversation_id == conversation.id)
                             .order_by(ConversationTransfer.id.desc()).limit(limit)).all())
    names = user_names(session, [r.by_user_id for r in rows] + [r.to_user_id for r in rows] +
                       [r.from_user_id for r in rows])
    return [{"at": r.created_at, "by": names.get(r.by_user_id, "系统"), "to": names.get(r.to_user_id, ""),
             "from": names.get(r.from_user_id, "") if r.from_user_id else "", "note": r.note} for r in rows]
