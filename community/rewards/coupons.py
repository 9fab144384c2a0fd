"""优惠券: batches (value, kind, validity, how many may be issued), one unique code per issue, and
核销 (redeem) exactly once. Issuing takes a slot with a conditional UPDATE of the batch (never past
`total`), redeeming flips the code with UPDATE … WHERE status = 'issued' — the one that changes a
row wins, every other concurrent attempt is told the code was already used."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import text
from sqlmodel import Session, col, func, select

from community.errors import CommunityError, CommunityNotFound
from community.records import get_or_missing, whole_field
from community.rewards.models import COUPON_KINDS, Coupon, CouponBatch
from config.clock import as_utc, utcnow
from config.dialect_insert import insert_for
from crm import scope
from crm.customers.models import Customer

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I: codes are read out at the counter
CODE_LENGTH = 10


class CouponConflict(CommunityError):
    status = 409


def create_batch(session: Session, data: dict, *, valid_from: Optional[datetime], valid_until: Optional[datetime],
                 user_id: Optional[int] = None) -> CouponBatch:
    """A new batch; CommunityError names the bad field. Times are aware UTC (the form parses them)."""
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise CommunityError("请填写券名称（不超过 100 字）", {"name": "请填写券名称（不超过 100 字）"})
    kind = str(data.get("kind") or "cash")
    if kind not in COUPON_KINDS:
        raise CommunityError("券类型无效", {"kind": "请选择券类型"})
    value = whole_field(data, "value", "面值")
    if kind == "cash" and value <= 0:
        raise CommunityError("代金券面值应大于 0（分）", {"value": "代金券面值应大于 0（单位：分）"})
    if kind == "discount" and not 1 <= value <= 99:
        raise CommunityError("折扣应在 1～99 之间", {"value": "折扣填实付百分比，如 85 表示八五折"})
    if valid_from and valid_until and as_utc(valid_until) <= as_utc(valid_from):
        raise CommunityError("有效期结束应晚于开始", {"valid_until": "结束时间应晚于开始时间"})
    batch = CouponBatch(name=name, kind=kind, value=value if kind != "gift" else 0,
                        min_spend_fen=whole_field(data, "min_spend_fen", "使用门槛"), total=whole_field(data, "total", "发放总量"),
                        valid_days=whole_field(data, "valid_days", "领取后有效天数", 0, 3650),
                        description=str(data.get("description") or "").strip()[:500],
                        valid_from=valid_from, valid_until=valid_until, created_by=user_id)
    session.add(batch)
    session.flush()
    return batch


def get_batch(session: Session, batch_id) -> CouponBatch:
    return get_or_missing(session, CouponBatch, batch_id, "优惠券批次不存在")


def list_batches(session: Session) -> list[CouponBatch]:
    return list(session.exec(select(CouponBatch).order_by(col(CouponBatch.id).desc())))


def _new_code(session: Session) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if session.exec(select(Coupon.id).where(Coupon.code == code)).first() is None:
            return code


def issue(session: Session, batch_id: int, customer_id: int, *, source: str, source_ref: Optional[str], reason: str,
          now: Optional[datetime] = None) -> tuple[Coupon, bool]:
    """Gives the customer one code of the batch; returns (coupon, whether new). The same
    (source, source_ref) returns the first code. Refuses a stopped, ended or exhausted batch."""
    now = now or utcnow()
    if source_ref:
        found = session.exec(select(Coupon).where(Coupon.source == source, Coupon.source_ref == source_ref)).first()
        if found is not None:
            return found, False
    batch = get_batch(session, batch_id)
    if session.get(Customer, customer_id) is None:
        raise CommunityNotFound("客户不存在")
    if not batch.active:
        raise CommunityError(f"优惠券「{batch.name}」已停用")
    if batch.valid_until and as_utc(batch.valid_until) <= now:
        raise CommunityError(f"优惠券「{batch.name}」已过有效期")
    taken = session.execute(text(
        "UPDATE coupon_batch SET issued = issued + 1 WHERE id = :b AND (total = 0 OR issued < total)"),
        {"b": batch.id}).rowcount
    if taken != 1:
        raise CouponConflict(f"优惠券「{batch.name}」已发完（共 {batch.total} 张）")
    until = batch.valid_until
    if batch.valid_days:
        own = now + timedelta(days=batch.valid_days)
        until = min(own, as_utc(until)) if until else own
    inserted = session.execute(insert_for(session)(Coupon.__table__).values(
        batch_id=batch.id, code=_new_code(session), customer_id=customer_id, status="issued", source=source[:32],
        source_ref=source_ref, reason=reason[:300], valid_from=batch.valid_from, valid_until=until, issued_at=now,
        redeem_channel="", redeem_note="")
        .on_conflict_do_nothing(index_elements=["source", "source_ref"]).returning(Coupon.__table__.c.id)).scalar()
    if inserted is None:  # a concurrent issue with the same key won: give the slot back
        session.execute(text("UPDATE coupon_batch SET issued = issued - 1 WHERE id = :b"), {"b": batch.id})
        return session.exec(select(Coupon).where(Coupon.source == source, Coupon.source_ref == source_ref)).one(), False
    return session.get(Coupon, inserted), True


def find_code(session: Session, code: str, viewer=scope.SYSTEM) -> Coupon:
    """The coupon behind a code, if its customer is the viewer's to see (else 404 like an unknown code)."""
    clean = str(code or "").strip().upper()
    coupon = session.exec(select(Coupon).where(Coupon.code == clean)).first() if 0 < len(clean) <= 32 else None
    if coupon is None or session.exec(select(Customer.id).where(
            Customer.id == coupon.customer_id, scope.customers(viewer))).first() is None:
        raise CommunityNotFound("券码不存在", {"code": "券码不存在，请核对后重新输入"})
    return coupon


def redeem(session: Session, code: str, *, user_id: Optional[int], channel: str, note: str = "",
           viewer=scope.SYSTEM, now: Optional[datetime] = None) -> Coupon:
    """核销: marks the code used once. A second (or concurrent) attempt is 409 with when it was used."""
    now = now or utcnow()
    coupon = find_code(session, code, viewer)
    changed = session.execute(text(
        "UPDATE coupon SET status = 'redeemed', redeemed_at = :now, redeemed_by = :u, redeem_channel = :ch, "
        "redeem_note = :note WHERE id = :id AND status = 'issued' "
        "AND (valid_from IS NULL OR valid_from <= :now) AND (valid_until IS NULL OR valid_until > :now)"),
        {"now": now, "u": user_id, "ch": channel[:16], "note": note[:300], "id": coupon.id}).rowcount
    session.refresh(coupon)
    if changed != 1:
        if coupon.status == "redeemed":
            raise CouponConflict("该券已核销，不能重复使用", {"code": "该券已核销，不能重复使用"})
        if coupon.status == "void":
            raise CouponConflict("该券已作废", {"code": "该券已作废"})
        if coupon.valid_from and as_utc(coupon.valid_from) > now:
            raise CommunityError("该券尚未到使用时间", {"code": "该券尚未到使用时间"})
        raise CommunityError("该券已过期", {"code": "该券已过期"})
    session.execute(text("UPDATE coupon_batch SET redeemed = redeemed + 1 WHERE id = :b"), {"b": coupon.batch_id})
    return coupon


def void(session: Session, coupon_id: int) -> Coupon:
    coupon = session.get(Coupon, coupon_id)
    if coupon is None:
        raise CommunityNotFound("券码不存在")
    if session.execute(text("UPDATE coupon SET status = 'void' WHERE id = :id AND status = 'issued'"),
                       {"id": coupon_id}).rowcount != 1:
        raise CouponConflict("只有未使用的券可以作废")
    session.refresh(coupon)
    return coupon


def list_codes(session: Session, *, batch_id: Optional[int] = None, customer_id: Optional[int] = None,
               viewer=scope.SYSTEM, limit: int = 200) -> list[tuple[Coupon, str]]:
    stmt = (select(Coupon, Customer.name).join(Customer, Customer.id == Coupon.customer_id)
            .where(scope.customers(viewer)).order_by(col(Coupon.id).desc()).limit(limit))
    if batch_id:
        stmt = stmt.where(Coupon.batch_id == batch_id)
    if customer_id:
        stmt = stmt.where(Coupon.customer_id == customer_id)
    return list(session.exec(stmt))


def count_by_status(session: Session, batch_id: int) -> dict[str, int]:
    return dict(session.exec(select(Coupon.status, func.count()).where(Coupon.batch_id == batch_id)
                             .group_by(Coupon.status)).all())
