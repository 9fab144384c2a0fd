"""The right-hand panel of 触客宝: who the peer is (the friend, or the group) and, when the friend is
linked to a customer the user may see, the customer's portrait — tags, owner, groups, follow-ups,
open tasks — with the actions staff take while chatting (tag, 记跟进, 建任务, 关联客户). Every
action goes through the crm services with the user's scope, exactly as on the customer page."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import update
from sqlmodel import Session, select

from config.clock import utcnow
from conversations.chat_scope import get_conversation
from conversations.errors import ConversationError
from conversations.models import Conversation
from crm.customers.detail import customer_detail
from crm.customers.models import Customer
from crm.errors import NotFound
from crm.sales.followups import record_follow_up
from crm.sales.models import Task
from crm.sales.tasks import create_task
from crm.scope import Viewer, load, tasks as task_scope
from crm.tags.apply import apply_tags, remove_tags
from devices.models import ChatGroup, ChatGroupMember, Friend

OPEN_TASKS = ("todo", "doing")


def friend_of(session: Session, conversation: Conversation) -> Optional[Friend]:
    if conversation.friend_id:
        return session.get(Friend, conversation.friend_id)
    if conversation.channel == "wechat" and conversation.kind == "private":
        return session.exec(select(Friend).where(Friend.account_id == conversation.account_id,
                                                 Friend.wxid == conversation.peer_id)).first()
    return None


def _sync_customer(session: Session, conversation: Conversation, friend: Optional[Friend]) -> None:
    """A friend linked (by phone / wxid, or by hand) after the conversation began: follow the link."""
    if friend is not None and friend.customer_id and conversation.customer_id != friend.customer_id:
        conversation.customer_id = friend.customer_id
        session.execute(update(Conversation).where(Conversation.id == conversation.id)
                        .values(customer_id=friend.customer_id, friend_id=friend.id))


def visible_customer(session: Session, viewer: Viewer, conversation: Conversation) -> Optional[Customer]:
    if not conversation.customer_id:
        return None
    try:
        return load(session, viewer, Customer, conversation.customer_id)
    except NotFound:
        return None


def portrait(session: Session, viewer: Viewer, conversation_id) -> dict:
    conversation = get_conversation(session, viewer, conversation_id)
    friend = friend_of(session, conversation)
    _sync_customer(session, conversation, friend)
    out = {"conversation": conversation, "friend": friend, "group": None, "members": [], "customer": None,
           "hidden_customer": False, "tasks": []}
    if conversation.kind == "group" and conversation.group_id:
        out["group"] = session.get(ChatGroup, conversation.group_id)
        out["members"] = list(session.exec(select(ChatGroupMember).where(
            ChatGroupMember.group_id == conversation.group_id, ChatGroupMember.left_at.is_(None))
            .order_by(ChatGroupMember.id).limit(200)).all())
    customer = visible_customer(session, viewer, conversation)
    if customer is None:
        out["hidden_customer"] = bool(conversation.customer_id)
        return out
    detail = customer_detail(session, customer.id, viewer)
    detail["follow_ups"] = detail["follow_ups"][:5]
    out["customer"] = detail
    out["tasks"] = list(session.exec(select(Task).where(Task.customer_id == customer.id, Task.status.in_(OPEN_TASKS),
                                                        task_scope(viewer)).order_by(Task.deadline, Task.id).limit(10)).all())
    return out


def _customer(session: Session, viewer: Viewer, conversation_id) -> tuple[Conversation, Customer]:
    conversation = get_conversation(session, viewer, conversation_id)
    _sync_customer(session, conversation, friend_of(session, conversation))
    customer = visible_customer(session, viewer, conversation)
    if customer is None:
        raise ConversationError("该会话还没有关联你可见的客户，请先关联客户", {"customer_id": "未关联客户"})
    return conversation, customer


def _tag_ids(raw) -> list[int]:
    raw = raw if isinstance(raw, list) else [raw]
    try:
        ids = [int(x) for x in raw if x not in (None, "")]
    except (TypeError, ValueError):
        raise ConversationError("标签无效", {"tag_ids": "标签无效"}) from None
    if not ids:
        raise ConversationError("请选择标签", {"tag_ids": "请选择标签"})
    return ids


def tag(session: Session, viewer: Viewer, conversation_id, tag_ids, *, remove: bool = False,
        now: Optional[datetime] = None, tz: str = "") -> int:
    _conversation, customer = _customer(session, viewer, conversation_id)
    ids = _tag_ids(tag_ids)
    kwargs = {"now": now or utcnow()}
    if tz:
        kwargs["tz"] = tz
    if remove:
        return remove_tags(session, [customer.id], ids, operator_id=viewer.user_id, source="manual", **kwargs)
    return apply_tags(session, [customer.id], ids, operator_id=viewer.user_id, source="manual", **kwargs)


def follow_up(session: Session, viewer: Viewer, conversation_id, data: dict, *, now: Optional[datetime] = None,
              tz: str = ""):
    _conversation, customer = _customer(session, viewer, conversation_id)
    fields = {"customer_id": customer.id, "way": data.get("way") or "wechat", "content": data.get("content"),
              "status": data.get("status") or "following", "maturity": data.get("maturity") or 0,
              "next_follow_on": data.get("next_follow_on")}
    kwargs = {"tz": tz} if tz else {}
    return record_follow_up(session, fields, viewer.user_id, now=now, viewer=viewer, **kwargs)


def new_task(session: Session, viewer: Viewer, conversation_id, data: dict, *, now: Optional[datetime] = None) -> Task:
    _conversation, customer = _customer(session, viewer, conversation_id)
    now = now or utcnow()
    fields = {"title": data.get("title"), "kind": "follow_up", "customer_id": customer.id,
              "owner_id": viewer.user_id, "priority": data.get("priority") or "normal", "status": "todo",
              "deadline": data.get("deadline") or (now + timedelta(days=1)), "description": data.get("description") or ""}
    return create_task(session, fields, creator_id=viewer.user_id, now=now, viewer=viewer)


def link_customer(session: Session, viewer: Viewer, conversation_id, customer_id) -> Customer:
    """关联客户 by hand: the friend (and so every conversation with it) now belongs to this customer."""
    conversation = get_conversation(session, viewer, conversation_id)
    friend = friend_of(session, conversation)
    if friend is None:
        raise ConversationError("只有个人微信好友的会话可以关联客户", {"customer_id": "该会话不是好友私聊"})
    try:
        customer = load(session, viewer, Customer, customer_id)
    except NotFound:
        raise ConversationError("客户不存在", {"customer_id": "客户不存在"}) from None
    friend.customer_id = customer.id
    session.add(friend)
    session.execute(update(Conversation).where(Conversation.channel == "wechat", Conversation.kind == "private",
                                               Conversation.account_id == friend.account_id,
                                               Conversation.peer_id == friend.wxid).values(customer_id=customer.id,
                                                                                           friend_id=friend.id))
    return customer
