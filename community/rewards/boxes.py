"""盲盒: a prize pool of items with stock and weights. A draw picks by weight among prizes still in
stock and takes one with UPDATE … WHERE stock > 0; when a concurrent draw took the last one first,
it redraws among what remains — so stock never goes below zero and nobody is told they won a
prize that is gone. The prize is then given: points into the ledger, a coupon code, or a
physical item waiting to be shipped."""
from __future__ import annotations

import random
from datetime import datetime
from typing import Optional

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from community import points
from community.errors import CommunityError, CommunityNotFound
from community.ledger_models import POINTS_SOURCES
from community.records import get_or_missing, whole_field
from community.rewards import coupons
from community.rewards.models import PRIZE_KINDS, BoxDraw, BoxPool, BoxPrize
from config.clock import utcnow
from crm.customers.models import Customer

_rng = random.SystemRandom()


class PoolEmpty(CommunityError):
    status = 409


def create_pool(session: Session, name: str, description: str = "", user_id: Optional[int] = None) -> BoxPool:
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise CommunityError("请填写奖池名称（不超过 100 字）", {"name": "请填写奖池名称（不超过 100 字）"})
    pool = BoxPool(name=name, description=(description or "").strip()[:500], created_by=user_id)
    session.add(pool)
    session.flush()
    return pool


def get_pool(session: Session, pool_id) -> BoxPool:
    return get_or_missing(session, BoxPool, pool_id, "盲盒奖池不存在")


def list_pools(session: Session) -> list[BoxPool]:
    return list(session.exec(select(BoxPool).order_by(col(BoxPool.id).desc())))


def prizes(session: Session, pool_id: int) -> list[BoxPrize]:
    return list(session.exec(select(BoxPrize).where(BoxPrize.pool_id == pool_id).order_by(BoxPrize.id)))


def add_prize(session: Session, pool_id: int, data: dict) -> BoxPrize:
    pool = get_pool(session, pool_id)
    name = str(data.get("name") or "").strip()
    if not name or len(name) > 100:
        raise CommunityError("请填写奖品名称", {"name": "请填写奖品名称（不超过 100 字）"})
    kind = str(data.get("kind") or "physical")
    if kind not in PRIZE_KINDS:
        raise CommunityError("奖品类型无效", {"kind": "请选择奖品类型"})
    prize = BoxPrize(pool_id=pool.id, name=name, kind=kind, weight=whole_field(data, "weight", "权重", 1, 10 ** 8, 1),
                     stock=whole_field(data, "stock", "库存", 0, 10 ** 8))
    if kind == "points":
        prize.points = whole_field(data, "points", "积分", 1, 10 ** 8)
    if kind == "coupon":
        prize.coupon_batch_id = coupons.get_batch(session, data.get("coupon_batch_id") or "").id
    session.add(prize)
    session.flush()
    return prize


def restock(session: Session, prize_id: int, add: int) -> BoxPrize:
    """Adds stock (an UPDATE relative to what is there, so a concurrent draw is not overwritten)."""
    if not isinstance(add, int) or add == 0 or abs(add) > 10 ** 8:
        raise CommunityError("补货数量应为非零整数", {"add": "补货数量应为非零整数"})
    if session.execute(text("UPDATE box_prize SET stock = stock + :n WHERE id = :id AND stock + :n >= 0"),
                       {"n": add, "id": prize_id}).rowcount != 1:
        raise CommunityError("奖品不存在或库存不足以扣减", {"add": "库存不能减到负数"})
    prize = session.get(BoxPrize, prize_id)
    session.refresh(prize)
    return prize


def _pick(candidates: list[BoxPrize], rng) -> BoxPrize:
    total = sum(max(1, p.weight) for p in candidates)
    mark = rng.random() * total
    for prize in candidates:
        mark -= max(1, prize.weight)
        if mark < 0:
            return prize
    return candidates[-1]


def _take(session: Session, pool_id: int, rng) -> BoxPrize:
    candidates = list(session.exec(select(BoxPrize).where(BoxPrize.pool_id == pool_id, BoxPrize.stock > 0)))
    while candidates:
        prize = _pick(candidates, rng)
        if session.execute(text("UPDATE box_prize SET stock = stock - 1, drawn = drawn + 1 WHERE id = :id AND stock > 0"),
                           {"id": prize.id}).rowcount == 1:
            return prize
        candidates.remove(prize)  # someone else took the last one: redraw among the rest
    raise PoolEmpty("盲盒奖品已全部抽完")


def draw(session: Session, pool_id: int, customer_id: int, *, source: str, source_ref: Optional[str], reason: str,
         now: Optional[datetime] = None, rng=None) -> tuple[BoxDraw, bool]:
    """One draw for the customer; returns (draw, whether new). The same (source, source_ref) returns the first."""
    now = now or utcnow()
    if source_ref:
        found = session.exec(select(BoxDraw).where(BoxDraw.source == source, BoxDraw.source_ref == source_ref)).first()
        if found is not None:
            return found, False
    pool = get_pool(session, pool_id)
    if not pool.active:
        raise CommunityError(f"盲盒「{pool.name}」已停用")
    if session.get(Customer, customer_id) is None:
        raise CommunityNotFound("客户不存在")
    try:
        with session.begin_nested():  # the stock taken and the draw row stand or fall together
            prize = _take(session, pool.id, rng or _rng)
            row = BoxDraw(pool_id=pool.id, prize_id=prize.id, customer_id=customer_id, prize_name=prize.name,
                          kind=prize.kind, status="to_ship" if prize.kind == "physical" else "awarded",
                          source=source[:32], source_ref=source_ref, reason=reason[:300], created_at=now)
            session.add(row)
            session.flush()
    except IntegrityError:  # a concurrent draw with the same key won; its stock stays taken, ours is back
        return session.exec(select(BoxDraw).where(BoxDraw.source == source, BoxDraw.source_ref == source_ref)).one(), False
    session.execute(text("UPDATE box_pool SET draws = draws + 1 WHERE id = :id"), {"id": pool.id})
    _give(session, row, prize, now)
    return row, True


def _give(session: Session, row: BoxDraw, prize: BoxPrize, now: datetime) -> None:
    why = f"盲盒奖品：{prize.name}"
    if prize.kind == "points":
        entry, _new = points.earn(session, row.customer_id, prize.points, reason=why,
                                  source=row.source if row.source in POINTS_SOURCES else "processor",
                                  source_ref=f"boxdraw:{row.id}", now=now)
        row.points_entry_id = entry.id
    elif prize.kind == "coupon":
        coupon, _new = coupons.issue(session, prize.coupon_batch_id, row.customer_id, source="box",
                                     source_ref=f"boxdraw:{row.id}", reason=why, now=now)
        row.coupon_id = coupon.id
    session.add(row)
    session.flush()


def mark_shipped(session: Session, draw_id: int) -> BoxDraw:
    if session.execute(text("UPDATE box_draw SET status = 'shipped' WHERE id = :id AND status = 'to_ship'"),
                       {"id": draw_id}).rowcount != 1:
        raise CommunityError("只有待发货的实物奖品可以标记发货")
    row = session.get(BoxDraw, draw_id)
    session.refresh(row)
    return row


def list_draws(session: Session, *, pool_id: Optional[int] = None, customer_ids=None, limit: int = 200) -> list[BoxDraw]:
    stmt = select(BoxDraw).order_by(col(BoxDraw.id).desc()).limit(limit)
    if pool_id:
        stmt = stmt.where(BoxDraw.pool_id == pool_id)
    if customer_ids is not None:
        stmt = stmt.where(col(BoxDraw.customer_id).in_(customer_ids))
    return list(session.exec(stmt))
