"""The commission ledger (佣金): what a KOC or a 分销 distributor earns on referred orders. An entry is
keyed by (source, source_ref), so crediting the same order twice credits once; it stays `pending`
until `settle_after` (the hold period), and a refund reverses it rather than deleting it."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from community.errors import CommunityError
from community.ledger_models import CommissionEntry
from config.clock import utcnow
from config.dialect_insert import insert_for


def credit(session: Session, *, amount_fen: int, source: str, source_ref: str, reason: str,
           beneficiary_customer_id: Optional[int] = None, beneficiary_user_id: Optional[int] = None,
           order_id: Optional[int] = None, campaign_id: Optional[int] = None, group_id: Optional[int] = None,
           settle_after: Optional[datetime] = None, now: Optional[datetime] = None) -> tuple[CommissionEntry, bool]:
    """Records a pending commission once; returns (entry, whether it is new)."""
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen < 0:
        raise CommunityError("佣金金额应为非负整数（分）", {"amount_fen": "佣金金额应为非负整数（分）"})
    if (beneficiary_customer_id is None) == (beneficiary_user_id is None):
        raise CommunityError("佣金须归属一位客户或一位员工")
    now = now or utcnow()
    inserted = session.execute(insert_for(session)(CommissionEntry.__table__).values(
        beneficiary_customer_id=beneficiary_customer_id, beneficiary_user_id=beneficiary_user_id, order_id=order_id,
        campaign_id=campaign_id, group_id=group_id, amount_fen=amount_fen, status="pending", reason=reason[:300],
        source=source[:32], source_ref=source_ref[:100], settle_after=settle_after, created_at=now)
        .on_conflict_do_nothing(index_elements=["source", "source_ref"])
        .returning(CommissionEntry.__table__.c.id)).scalar()
    entry = session.exec(select(CommissionEntry).where(CommissionEntry.source == source[:32],
                                                       CommissionEntry.source_ref == source_ref[:100])).one()
    return entry, inserted is not None


def settle_due(session: Session, now: Optional[datetime] = None) -> int:
    """Settles pending entries whose hold period has passed; returns how many."""
    now = now or utcnow()
    rows = session.exec(select(CommissionEntry).where(CommissionEntry.status == "pending",
                                                      CommissionEntry.settle_after <= now)).all()
    for row in rows:
        row.status, row.settled_at = "settled", now
        session.add(row)
    return len(rows)


def reverse_for_order(session: Session, order_id: int, reason: str) -> int:
    """A refunded order's commissions are reversed (kept, marked), pending or settled."""
    rows = session.exec(select(CommissionEntry).where(CommissionEntry.order_id == order_id,
                                                      CommissionEntry.status != "reversed")).all()
    for row in rows:
        row.status, row.reason = "reversed", (row.reason + f"；冲回：{reason}")[:300]
        session.add(row)
    return len(rows)
