"""The points ledger (积分): earn, spend and read a customer's balance. Every change is a
conditional UPDATE of PointsAccount plus one PointsEntry in the caller's transaction, so the entries
sum to the balance, a balance never goes negative (even with concurrent spends), and an award keyed by
(source, source_ref) happens once however often it is retried.

Spending consumes earn entries first-expiring-first (their `remaining`), so an expiry job only lapses
what is still unspent. Expiry and the console live in the rewards part; this is the one door."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import text
from sqlmodel import Session, select

from community.errors import CommunityError, InsufficientPoints
from community.ledger_models import POINTS_SOURCES, PointsAccount, PointsEntry
from config.clock import utcnow
from config.dialect_insert import insert_for


def _ensure_account(session: Session, customer_id: int, now: datetime) -> None:
    session.execute(insert_for(session)(PointsAccount.__table__).values(
        customer_id=customer_id, balance=0, earned_total=0, spent_total=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=["customer_id"]))


def balance(session: Session, customer_id: int) -> int:
    account = session.exec(select(PointsAccount).where(PointsAccount.customer_id == customer_id)).first()
    return account.balance if account else 0


def _existing(session: Session, source: str, source_ref: Optional[str], kind: str) -> Optional[PointsEntry]:
    if not source_ref:
        return None
    return session.exec(select(PointsEntry).where(PointsEntry.source == source, PointsEntry.source_ref == source_ref,
                                                  PointsEntry.kind == kind)).first()


def _check(points: int, source: str) -> None:
    if not isinstance(points, int) or isinstance(points, bool) or points <= 0:
        raise CommunityError("积分数量应为正整数", {"points": "积分数量应为正整数"})
    if source not in POINTS_SOURCES:
        raise CommunityError(f"未知的积分来源：{source}", {"source": "未知的积分来源"})


def earn(session: Session, customer_id: int, points: int, *, reason: str, source: str,
         source_ref: Optional[str] = None, expires_at: Optional[datetime] = None,
         operator_id: Optional[int] = None, now: Optional[datetime] = None) -> tuple[PointsEntry, bool]:
    """Adds points; returns (entry, whether it is new). A repeated (source, source_ref) returns the first."""
    _check(points, source)
    now = now or utcnow()
    found = _existing(session, source, source_ref, "earn")
    if found is not None:
        return found, False
    _ensure_account(session, customer_id, now)
    inserted = session.execute(insert_for(session)(PointsEntry.__table__).values(
        customer_id=customer_id, kind="earn", delta=points, balance_after=0, reason=reason[:300], source=source,
        source_ref=source_ref, expires_at=expires_at, remaining=points, operator_id=operator_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["source", "source_ref", "kind"])
        .returning(PointsEntry.__table__.c.id)).scalar()
    if inserted is None:  # a concurrent award with the same key won
        return _existing(session, source, source_ref, "earn"), False
    after = session.execute(text(
        "UPDATE points_account SET balance = balance + :p, earned_total = earned_total + :p, updated_at = :now "
        "WHERE customer_id = :c RETURNING balance"), {"p": points, "c": customer_id, "now": now}).scalar_one()
    entry = session.get(PointsEntry, inserted)
    entry.balance_after = after
    session.add(entry)
    session.flush()
    return entry, True


def debit(session: Session, customer_id: int, points: int, *, kind: str = "spend", reason: str, source: str,
          source_ref: Optional[str] = None, operator_id: Optional[int] = None,
          now: Optional[datetime] = None) -> PointsEntry:
    """Takes points away (spend, expire, a negative adjustment); refuses to go below zero (409)."""
    _check(points, source)
    if kind not in ("spend", "expire", "adjust"):
        raise CommunityError(f"未知的积分变动类型：{kind}")
    now = now or utcnow()
    found = _existing(session, source, source_ref, kind)
    if found is not None:
        return found
    after = session.execute(text(
        "UPDATE points_account SET balance = balance - :p, spent_total = spent_total + :p, updated_at = :now "
        "WHERE customer_id = :c AND balance >= :p RETURNING balance"),
        {"p": points, "c": customer_id, "now": now}).scalar()
    if after is None:
        held = balance(session, customer_id)
        raise InsufficientPoints(f"积分不足：需要 {points}，当前余额 {held}", {"points": f"积分不足（余额 {held}）"})
    _consume(session, customer_id, points, now)
    entry = PointsEntry(customer_id=customer_id, kind=kind, delta=-points, balance_after=after, reason=reason[:300],
                        source=source, source_ref=source_ref, operator_id=operator_id, created_at=now)
    session.add(entry)
    session.flush()
    return entry


def _consume(session: Session, customer_id: int, points: int, now: datetime) -> None:
    """Marks `points` of earn entries as used, soonest-expiring first (never-expiring last)."""
    left = points
    rows = session.exec(select(PointsEntry).where(
        PointsEntry.customer_id == customer_id, PointsEntry.kind == "earn", PointsEntry.remaining > 0)
        .order_by(PointsEntry.expires_at.is_(None), PointsEntry.expires_at, PointsEntry.id)).all()
    for row in rows:
        if left <= 0:
            break
        used = min(row.remaining, left)
        row.remaining -= used
        left -= used
        session.add(row)
