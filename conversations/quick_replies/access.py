"""Which conversations and accounts a person may use (the rule of 触客宝): conversations.view_all
sees everything; conversations.view sees the conversations of the WeChat accounts assigned to them
(WechatAccount.owner_user_id) and those transferred to them (Conversation.assignee_id). Another's
conversation is "not found", like an unknown id."""
from __future__ import annotations

from sqlalchemy import and_, false, or_, true
from sqlmodel import Session, col, select

from conversations.errors import ConversationNotFound
from conversations.ids import object_id
from conversations.models import Conversation
from crm.scope import Viewer
from devices.models import WechatAccount


def sees_all(viewer: Viewer) -> bool:
    return viewer.has("conversations.view_all")


def own_accounts(viewer: Viewer):
    """A boolean clause on WechatAccount: the accounts `viewer` works with."""
    if sees_all(viewer):
        return true()
    if viewer.user_id is None:
        return false()
    return WechatAccount.owner_user_id == viewer.user_id


def conversations_clause(viewer: Viewer):
    if sees_all(viewer):
        return true()
    if viewer.user_id is None:
        return false()
    mine = select(WechatAccount.id).where(WechatAccount.owner_user_id == viewer.user_id)
    # account ids of other channels (公众号, 企业微信) live in other tables: only wechat ones are accounts
    return or_(and_(Conversation.channel == "wechat", col(Conversation.account_id).in_(mine)),
               Conversation.assignee_id == viewer.user_id)


def load_conversation(session: Session, viewer: Viewer, conversation_id) -> Conversation:
    key, row = object_id(conversation_id), None
    if key is not None:
        row = session.exec(select(Conversation).where(Conversation.id == key, conversations_clause(viewer))).first()
    if row is None:
        raise ConversationNotFound("会话不存在或无权查看")
    return row
