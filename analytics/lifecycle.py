"""The raw facts behind customer_score, read set-based from the source tables.

- A **purchase** is a SalesOrder with paid_at set whose status is still paid / shipped / completed
  (a fully refunded or cancelled order is not a purchase); its amount is paid_fen - refunded_fen.
- A **contact** (加好友 / 入群) belongs to a customer when the WeChat friend is linked to them
  (Friend.customer_id), when the friend's or the group member's wxid is the customer's wechat_id, or
  when the group member's wxid is a friend linked to them. The first contact is the earliest of these
  (deleted friends and members who left still count: the contact happened).
- A customer's **channel / scene** are those of their first lead.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

from sqlalchemy import and_, func, select
from sqlmodel import Session

from commerce.orders.models import SalesOrder
from config.clock import as_utc
from crm.customers.models import Customer
from crm.leads.models import Lead
from devices.models import ChatGroupMember, Friend

PURCHASE_STATES = ("paid", "shipped", "completed")


def purchase_clause():
    """SQL clause on SalesOrder: the order counts as a purchase."""
    return and_(SalesOrder.paid_at.is_not(None), SalesOrder.status.in_(PURCHASE_STATES))


def purchase_amount():
    return SalesOrder.paid_fen - SalesOrder.refunded_fen


def first_contacts(session: Session) -> dict[int, datetime]:
    """customer id → earliest 加好友 / 入群 instant."""
    linked = select(Friend.customer_id, func.min(Friend.added_at)).where(Friend.customer_id.is_not(None)) \
        .group_by(Friend.customer_id)
    by_wxid = select(Customer.id, func.min(Friend.added_at)).join(Friend, Friend.wxid == Customer.wechat_id) \
        .group_by(Customer.id)
    member = select(Customer.id, func.min(ChatGroupMember.joined_at)) \
        .join(ChatGroupMember, ChatGroupMember.wxid == Customer.wechat_id).group_by(Customer.id)
    member_friend = select(Friend.customer_id, func.min(ChatGroupMember.joined_at)) \
        .join(ChatGroupMember, ChatGroupMember.wxid == Friend.wxid).where(Friend.customer_id.is_not(None)) \
        .group_by(Friend.customer_id)
    out: dict[int, datetime] = {}
    for stmt in (linked, by_wxid, member, member_friend):
        for cid, when in session.execute(stmt):
            if when is None:
                continue
            when = as_utc(when)
            if cid not in out or when < out[cid]:
                out[cid] = when
    return out


def first_leads(session: Session) -> dict[int, tuple]:
    """customer id → (channel_id, scene_id) of their earliest lead."""
    out: dict[int, tuple] = {}
    stmt = (select(Lead.customer_id, Lead.channel_id, Lead.scene_id).where(Lead.customer_id.is_not(None))
            .order_by(Lead.customer_id, Lead.created_at, Lead.id))
    for cid, channel_id, scene_id in session.execute(stmt):
        out.setdefault(cid, (channel_id, scene_id))
    return out


def purchases(session: Session) -> Iterator[tuple[int, datetime, int]]:
    """(customer id, paid at, net amount) of every purchase, by customer then time."""
    stmt = (select(SalesOrder.customer_id, SalesOrder.paid_at, purchase_amount()).where(purchase_clause())
            .order_by(SalesOrder.customer_id, SalesOrder.paid_at, SalesOrder.id))
    for cid, paid_at, amount in session.execute(stmt).yield_per(5000):
        yield cid, as_utc(paid_at), int(amount or 0)
