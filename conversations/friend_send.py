"""Sending to one WeChat friend (the API's 发消息 on a friend, as the console's 好友详情 → 触客宝
does): the friend's private conversation, opened when there is none yet, then the same send as 触客宝
(parse, risk budget, idempotent client_key). The friend is loaded through the friends' object scope
and the conversation through 触客宝's, so another's friend is "not found" either way."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session

from config.clock import utcnow
from conversations.chat_send import send_in_conversation
from conversations.errors import ConversationError
from conversations.friend_profile import load_friend
from conversations.models import ChatMessage
from conversations.store import NewMessage, conversation_for
from crm.scope import Viewer


def send_to_friend(session: Session, viewer: Viewer, friend_id, data: dict, *, user_id: Optional[int],
                   sender_name: str = "", now: Optional[datetime] = None, settings=None) -> ChatMessage:
    friend = load_friend(session, viewer, friend_id)
    if friend.deleted_at is not None:
        raise ConversationError("该好友已删除，不能发送", {"friend_id": "好友已删除"})
    conversation = conversation_for(session, NewMessage(
        channel="wechat", account_id=friend.account_id, kind="private", peer_id=friend.wxid, direction="out",
        title=friend.remark or friend.nickname, friend_id=friend.id, customer_id=friend.customer_id), now or utcnow())
    return send_in_conversation(session, viewer, conversation.id, data, user_id=user_id, sender_name=sender_name,
                                now=now, settings=settings)
