"""The KOC earnings board (收益看板): per group the KOC leads, over a window —

- 新成员: members who joined the group;
- 引流: of those, how many are CRM customers (a friend record of ours links them);
- 订单 / 成交额: paid orders of the group's members' customers (paid in the window);
- 核销: coupons (权益) of those customers redeemed in the window;
- 佣金: community.commission entries whose beneficiary is the KOC (pending + settled, not reversed).

A KOC sees only their own board (the H5 is signed per KOC); staff with koc.manage see all."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from commerce.orders.models import SalesOrder
from community.koc.models import Koc, KocGroup
from community.ledger_models import CommissionEntry
from community.rewards.models import Coupon
from config.clock import as_utc
from devices.models import ChatGroup, ChatGroupMember, Friend

PAID = ("paid", "shipped", "completed")


def _members(session: Session, group_id: int) -> list[ChatGroupMember]:
    return list(session.exec(select(ChatGroupMember).where(ChatGroupMember.group_id == group_id)))


def _customers(session: Session, wxids: list[str]) -> set[int]:
    if not wxids:
        return set()
    return {c for c in session.exec(select(Friend.customer_id).where(Friend.wxid.in_(wxids),
                                                                     Friend.customer_id.is_not(None)))}


def _redemptions(session: Session, customers: set[int], since: datetime, until: datetime) -> int:
    if not customers:
        return 0
    return session.exec(select(func.count()).select_from(Coupon).where(
        Coupon.status == "redeemed", Coupon.customer_id.in_(customers), Coupon.redeemed_at >= since,
        Coupon.redeemed_at <= until)).one()


def group_row(session: Session, group: ChatGroup, since: datetime, until: datetime) -> dict:
    members = _members(session, group.id)
    joined = [m for m in members if since <= as_utc(m.joined_at) <= until]
    customers = _customers(session, [m.wxid for m in members])
    joined_customers = _customers(session, [m.wxid for m in joined])
    orders, revenue = (0, 0)
    if customers:
        orders, revenue = session.exec(select(func.count(), func.coalesce(func.sum(SalesOrder.paid_fen), 0)).where(
            SalesOrder.customer_id.in_(customers), SalesOrder.status.in_(PAID),
            SalesOrder.paid_at >= since, SalesOrder.paid_at <= until)).one()
    row = {"group_id": group.id, "group": group.name or group.chatroom_id, "members": sum(1 for m in members if m.left_at is None),
           "new_members": len(joined), "leads": len(joined_customers), "orders": orders, "revenue_fen": int(revenue or 0),
           "redemptions": _redemptions(session, customers, since, until)}
    return row


def commission(session: Session, koc: Koc, since: datetime, until: datetime) -> dict:
    who = (CommissionEntry.beneficiary_customer_id == koc.customer_id) if koc.customer_id else (
        CommissionEntry.beneficiary_user_id == koc.user_id)
    rows = session.exec(select(CommissionEntry.status, func.coalesce(func.sum(CommissionEntry.amount_fen), 0)).where(
        who, CommissionEntry.created_at >= since, CommissionEntry.created_at <= until)
        .group_by(CommissionEntry.status)).all()
    by = {status: int(total) for status, total in rows}
    return {"pending_fen": by.get("pending", 0), "settled_fen": by.get("settled", 0),
            "total_fen": by.get("pending", 0) + by.get("settled", 0), "reversed_fen": by.get("reversed", 0)}


def board(session: Session, koc: Koc, since: datetime, until: datetime) -> dict:
    groups = session.exec(select(ChatGroup).join(KocGroup, KocGroup.group_id == ChatGroup.id)
                           .where(KocGroup.koc_id == koc.id).order_by(ChatGroup.id)).all()
    rows = [group_row(session, g, since, until) for g in groups]
    keys = ("members", "new_members", "leads", "orders", "revenue_fen", "redemptions")
    totals = {k: sum(r[k] for r in rows) for k in keys}
    return {"koc": koc, "groups": rows, "totals": totals, "commission": commission(session, koc, since, until),
            "since": since, "until": until}
