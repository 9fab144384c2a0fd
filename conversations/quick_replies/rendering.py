"""A reply as it would be sent to one customer: its text rendered in the sandbox with that customer's
variables, its attachments described (素材 file name, 内容库 title and kind), and the use counted
when it is picked into a chat box."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session, select

from conversations.models import Conversation
from conversations.quick_replies import variables
from conversations.quick_replies.models import QuickReply, QuickReplyCategory
from crm.customers.models import Customer
from devices.models import ContentItem, Friend, Material


def friend_of(session: Session, conversation: Conversation) -> Optional[Friend]:
    if conversation.kind != "private" or conversation.channel != "wechat":
        return None
    if conversation.friend_id:
        friend = session.get(Friend, conversation.friend_id)
        if friend is not None:
            return friend
    return session.exec(select(Friend).where(Friend.account_id == conversation.account_id,
                                             Friend.wxid == conversation.peer_id)).first()


def conversation_values(session: Session, conversation: Conversation) -> dict:
    friend = friend_of(session, conversation)
    customer_id = conversation.customer_id or (friend.customer_id if friend is not None else None)
    customer = session.get(Customer, customer_id) if customer_id else None
    return variables.values(session, customer, friend)


def describe_attachments(session: Session, reply: QuickReply) -> list[dict]:
    out = []
    for item in reply.attachments or []:
        if item.get("kind") == "material":
            row = session.get(Material, item.get("id"))
            if row is not None:
                out.append({"kind": "material", "id": row.id, "title": row.filename, "msg_type": "image"})
        else:
            row = session.get(ContentItem, item.get("id"))
            if row is not None:
                out.append({"kind": "content", "id": row.id, "title": row.title, "msg_type": row.kind})
    return out


def categories_by_id(session: Session) -> dict[int, str]:
    return {c.id: c.name for c in session.exec(select(QuickReplyCategory))}


def as_dict(session: Session, reply: QuickReply, data: Optional[dict], names: Optional[dict] = None) -> dict:
    """The reply for the picker / API; `data` None leaves the ${变量} as written."""
    names = names if names is not None else categories_by_id(session)
    return {"id": reply.id, "title": reply.title, "category": names.get(reply.category_id or 0, ""),
            "category_id": reply.category_id, "template": reply.text,
            "text": variables.render(reply.text, data) if data is not None else reply.text,
            "attachments": describe_attachments(session, reply), "send_count": reply.send_count}


def search_for_customer(session: Session, viewer, flt, customer_id: Optional[int], limit: int) -> list[dict]:
    """Replies `viewer` may use matching `flt`, rendered for the customer (scope-checked: another's
    customer is NotFound) or left as templates without one. The API and the WeCom sidebar answer this."""
    from crm.customers.models import Customer
    from crm.scope import load

    from conversations.quick_replies import service, variables

    data = variables.values(session, load(session, viewer, Customer, customer_id)) if customer_id else None
    names = categories_by_id(session)
    return [as_dict(session, r, data, names) for r in service.search(session, viewer, flt, limit)]
