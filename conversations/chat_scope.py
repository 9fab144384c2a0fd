"""Whose conversations a console user may read and answer (object-level permission for 触客宝).

With 查看全部会话 (conversations.view_all) every conversation; with conversations.view those of
the phone accounts assigned to the user (WechatAccount.owner_user_id) and those transferred to
them (Conversation.assignee_id). Anything else is "not found", exactly like an unknown id, so a
salesperson never learns that a colleague's conversation exists."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import and_, false, or_, true
from sqlmodel import Session, select

from conversations.errors import ConversationNotFound
from conversations.models import Conversation
from crm.scope import Viewer
from devices.models import WechatAccount


def sees_all(viewer: Viewer) -> bool:
    return viewer.has("conversations.view_all")


def own_accounts(viewer: Viewer):
    """The ids of the phone accounts assigned to `viewer` (a subquery)."""
    return select(WechatAccount.id).where(WechatAccount.owner_user_id == viewer.user_id)


def visible(viewer: Viewer):
    """A boolean clause on Conversation: the conversations `viewer` may open."""
    if sees_all(viewer):
        return true()
    if viewer.user_id is None or not viewer.has("conversations.view"):
        return false()
    return or_(and_(Conversation.channel == "wechat", Conversation.account_id.in_(own_accounts(viewer))),
               Conversation.assignee_id == viewer.user_id)


def get_conversation(session: Session, viewer: Viewer, conversation_id, *, for_update: bool = False) -> Conversation:
    """The conversation when `viewer` may open it; ConversationNotFound otherwise (and for bad ids)."""
    try:
        cid = int(conversation_id)
    except (TypeError, ValueError):
        raise ConversationNotFound("会话不存在") from None
    query = select(Conversation).where(Conversation.id == cid, visible(viewer))
    if for_update:
        query = query.with_for_update()
    found: Optional[Conversation] = session.exec(query).first()
    if found is None:
        raise ConversationNotFound("会话不存在")
    return found


def account_ids_of(session: Session, viewer: Viewer) -> Optional[set[int]]:
    """The phone accounts `viewer` works (None: all of them)."""
    if sees_all(viewer):
        return None
    if viewer.user_id is None:
        return set()
    return set(session.exec(own_accounts(viewer)).all())


def assigned_ids(session: Session, viewer: Viewer) -> set[int]:
    """Conversations transferred to `viewer` (the live channel refreshes this now and then)."""
    if viewer.user_id is None:
        return set()
    return set(session.exec(select(Conversation.id).where(Conversation.assignee_id == viewer.user_id)).all())
