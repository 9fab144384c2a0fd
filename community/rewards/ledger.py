"""The points console over community.points (the one door): a customer's ledger page, a manual
adjustment with its reason, and the expiry job that lapses what is left of expired earn entries."""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

from sqlmodel import Session, col, func, select

from community import points
from community.errors import CommunityError
from community.ledger_models import PointsAccount, PointsEntry
from config.clock import utcnow


def entries(session: Session, customer_id: int, limit: int = 200) -> list[PointsEntry]:
    return list(session.exec(select(PointsEntry).where(PointsEntry.customer_id == customer_id)
                             .order_by(col(PointsEntry.id).desc()).limit(limit)))


def top_accounts(session: Session, customer_clause, limit: int = 100) -> list[tuple[PointsAccount, str]]:
    """Accounts of the customers in `customer_clause` (crm.scope), highest balance first."""
    from crm.customers.models import Customer

    return list(session.exec(select(PointsAccount, Customer.name).join(Customer, Customer.id == PointsAccount.customer_id)
                             .where(customer_clause).order_by(col(PointsAccount.balance).desc(), PointsAccount.id)
                             .limit(limit)))


def adjust(session: Session, customer_id: int, delta, reason: str, operator_id: Optional[int],
           now: Optional[datetime] = None) -> PointsEntry:
    """手工调整: +N earns, -N debits (kind adjust, refused below zero). The reason is required."""
    try:
        amount = int(str(delta).strip())
    except (TypeError, ValueError):
        raise CommunityError("调整积分应为整数", {"delta": "调整积分应为非零整数，如 50 或 -20"}) from None
    reason = (reason or "").strip()
    if not reason:
        raise CommunityError("请填写调整原因", {"reason": "请填写调整原因"})
    if amount == 0 or abs(amount) > 10 ** 7:
        raise CommunityError("调整积分应为非零整数", {"delta": "调整积分应为非零整数，如 50 或 -20"})
    ref = f"manual:{uuid.uuid4().hex}"
    if amount > 0:
        return points.earn(session, customer_id, amount, reason=reason, source="manual", source_ref=ref,
                           operator_id=operator_id, now=now)[0]
    return points.debit(session, customer_id, -amount, kind="adjust", reason=reason, source="manual", source_ref=ref,
                        operator_id=operator_id, now=now)


def expire_due(session: Session, now: Optional[datetime] = None, limit: int = 1000) -> int:
    """Lapses the unspent part of earn entries past their expiry, soonest first; returns how many
    entries lapsed. Keyed by the earn entry, so a re-run never expires the same points twice."""
    now = now or utcnow()
    due = list(session.exec(select(PointsEntry).where(
        PointsEntry.kind == "earn", PointsEntry.remaining > 0, col(PointsEntry.expires_at).is_not(None),
        PointsEntry.expires_at <= now).order_by(PointsEntry.expires_at, PointsEntry.id).limit(limit)))
    for entry in due:
        session.refresh(entry)  # an earlier debit in this loop may have consumed it
        if entry.remaining <= 0:
            continue
        amount = min(entry.remaining, points.balance(session, entry.customer_id))
        if amount > 0:  # the FIFO debit consumes this entry first: it is the soonest to expire
            points.debit(session, entry.customer_id, amount, kind="expire", reason=f"积分到期（{entry.reason}）"[:300],
                         source="expiry", source_ref=f"expire:{entry.id}", now=now)
            session.refresh(entry)
        entry.remaining = 0
        session.add(entry)
    session.flush()
    return len(due)


def customer_rewards(session: Session, customer_id: int) -> dict:
    """What the customer detail page shows of 权益: balance, unused coupons, blind-box prizes."""
    from community.rewards.models import BoxDraw, Coupon

    return {"balance": points.balance(session, customer_id),
            "coupons": session.exec(select(func.count()).select_from(Coupon).where(
                Coupon.customer_id == customer_id, Coupon.status == "issued")).one(),
            "prizes": session.exec(select(func.count()).select_from(BoxDraw).where(BoxDraw.customer_id == customer_id)).one()}


def totals(session: Session) -> dict:
    row = session.exec(select(func.count(), func.coalesce(func.sum(PointsAccount.balance), 0),
                              func.coalesce(func.sum(PointsAccount.earned_total), 0))).one()
    return {"accounts": row[0], "balance": int(row[1]), "earned": int(row[2])}
