"""The conversation list of 触客宝: the user's conversations, newest first, with unread counts, the
last message, the customer's tags, and the filters staff use all day — 未回复 (the customer spoke
last), 我的客户 (customers the user owns), by account, tag, channel, and a title search."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import and_, func, or_
from sqlmodel import Session, select

from conversations.chat_scope import visible
from conversations.models import CHANNELS, Conversation
from crm.customers.display import tag_names
from crm.customers.models import Customer
from crm.people.models import User
from crm.scope import Viewer, visible_ids
from crm.tags.models import CustomerTag
from devices.models import WechatAccount

PAGE = 50
FILTERS = {"": "全部", "unreplied": "未回复", "unread": "未读", "mine": "我的客户"}


@dataclass
class ListFilter:
    show: str = ""  # FILTERS key
    account_id: Optional[int] = None
    tag_id: Optional[int] = None
    channel: str = ""
    q: str = ""
    limit: int = PAGE
    offset: int = 0


def unreplied_clause():
    """未回复: a customer message after our last one (or we never answered)."""
    return and_(Conversation.last_inbound_at.is_not(None),
                or_(Conversation.last_outbound_at.is_(None), Conversation.last_inbound_at > Conversation.last_outbound_at))


def _where(viewer: Viewer, f: ListFilter) -> list:
    where = [visible(viewer)]
    if f.show == "unreplied":
        where.append(unreplied_clause())
    elif f.show == "unread":
        where.append(Conversation.unread_count > 0)
    elif f.show == "mine":
        where.append(Conversation.customer_id.in_(select(Customer.id).where(Customer.owner_id == viewer.user_id)))
    if f.account_id:
        where.append(Conversation.account_id == f.account_id)
    if f.channel in CHANNELS:
        where.append(Conversation.channel == f.channel)
    if f.tag_id:
        where.append(Conversation.customer_id.in_(select(CustomerTag.customer_id).where(CustomerTag.tag_id == f.tag_id)))
    q = (f.q or "").strip()[:50]
    if q:
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(Conversation.title.like(f"%{escaped}%", escape="\\"))
    return where


def list_conversations(session: Session, viewer: Viewer, f: ListFilter) -> list[dict]:
    """One page (newest activity first); `more` on the last row's dict is not needed: the caller
    asks for limit + 1 to know whether to offer 加载更多."""
    rows = list(session.exec(select(Conversation).where(*_where(viewer, f))
                             .order_by(Conversation.last_message_at.desc().nulls_last(), Conversation.id.desc())
                             .offset(max(0, f.offset)).limit(max(1, min(f.limit, 200)))).all())
    return describe(session, rows, viewer)


def unread_total(session: Session, viewer: Viewer) -> int:
    return int(session.exec(select(func.coalesce(func.sum(Conversation.unread_count), 0))
                            .where(visible(viewer))).one() or 0)


def account_names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {a.id: a.nickname or a.wxid for a in session.exec(select(WechatAccount).where(WechatAccount.id.in_(ids)))}


def user_names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.display_name or u.username for u in session.exec(select(User).where(User.id.in_(ids)))}


def describe(session: Session, rows: list[Conversation], viewer: Viewer) -> list[dict]:
    """Conversations as the list (and the live channel) shows them: one lookup per kind, not per row.
    A customer the viewer may not see (another salesperson's) shows no tags and no link."""
    seen = visible_ids(session, viewer, Customer, {c.customer_id for c in rows if c.customer_id})
    tags = tag_names(session, seen)
    accounts = account_names(session, [c.account_id for c in rows if c.channel == "wechat"])
    assignees = user_names(session, [c.assignee_id for c in rows])
    return [summary(c, tags.get(c.customer_id, []) if c.customer_id in seen else [], c.customer_id in seen,
                    accounts.get(c.account_id, "") if c.channel == "wechat" else CHANNELS.get(c.channel, c.channel),
                    assignees.get(c.assignee_id, "")) for c in rows]


def summary(c: Conversation, tags: list, customer_visible: bool, account: str, assignee: str) -> dict:
    return {"id": c.id, "channel": c.channel, "channel_label": CHANNELS.get(c.channel, c.channel), "kind": c.kind,
            "title": c.title or c.peer_id, "peer_id": c.peer_id, "account_id": c.account_id, "account": account,
            "friend_id": c.friend_id, "group_id": c.group_id, "customer_id": c.customer_id if customer_visible else None,
            "last_message_at": c.last_message_at, "last_message_text": c.last_message_text,
            "last_direction": c.last_direction, "unread_count": c.unread_count,
            "unreplied": bool(c.last_inbound_at and (c.last_outbound_at is None or c.last_inbound_at > c.last_outbound_at)),
            "assignee_id": c.assignee_id, "assignee": assignee, "needs_human": c.needs_human,
            "needs_human_reason": c.needs_human_reason, "tags": tags}
