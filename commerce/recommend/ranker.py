"""Ranking for one customer: ask every signal, scale each to 0..1, weight (registry), then keep
only what may be offered — on shelf, not deleted, some active SKU with on_hand − reserved > 0,
and not a one-time product the customer already has. A product bought before but not one-time
stays (复购) at its full score: halving it cost a fifth of the hit-rate on the planted set,
since repeat purchases are what most shops live on. Stock and shelf are read live for the
few products that could make the list, never from the precomputed tables."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import func, or_, select
from sqlmodel import Session

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.orders.models import OrderLine, SalesOrder
from commerce.recommend.base import Profile, tag_weight
from commerce.recommend.registry import BLEND, SIGNALS
from config.clock import utcnow
from crm.tags.models import CustomerTag, Tag

BOUGHT_STATES = ("paid", "shipped", "completed")
REPURCHASE_FACTOR = 1.0
MAX_LIMIT = 50


@dataclass
class Recommendation:
    spu_id: int
    name: str
    score: float
    reasons: list[str]
    signals: dict[str, float] = field(default_factory=dict)  # key → the weighted part of the score
    price_fen: int = 0  # the lowest price among SKUs in stock
    link_url: str = ""
    miniprogram: dict = field(default_factory=dict)
    bought_before: bool = False

    def as_dict(self) -> dict:
        return {"spu_id": self.spu_id, "name": self.name, "score": round(self.score, 4), "reasons": self.reasons,
                "signals": {k: round(v, 4) for k, v in self.signals.items()}, "price_fen": self.price_fen,
                "link_url": self.link_url, "miniprogram": self.miniprogram, "bought_before": self.bought_before}


def bought_products(session: Session, customer_id: int, as_of: Optional[datetime] = None) -> dict[int, datetime]:
    """SPU → when this customer last paid for it (paid, shipped or completed orders)."""
    stmt = (select(OrderLine.spu_id, func.max(SalesOrder.paid_at))
            .join(OrderLine, OrderLine.order_id == SalesOrder.id)
            .where(SalesOrder.customer_id == customer_id, SalesOrder.paid_at.is_not(None),
                   SalesOrder.status.in_(BOUGHT_STATES), OrderLine.spu_id.is_not(None))
            .group_by(OrderLine.spu_id))
    if as_of is not None:
        stmt = stmt.where(SalesOrder.paid_at < as_of)
    return {spu: at for spu, at in session.execute(stmt).all()}


def profile_of(session: Session, customer_id: int, as_of: Optional[datetime] = None) -> Profile:
    now = as_of or utcnow()
    rows = session.execute(select(Tag.id, Tag.name, Tag.score).join(CustomerTag, CustomerTag.tag_id == Tag.id)
                           .where(CustomerTag.customer_id == customer_id, Tag.enabled.is_(True),
                                  or_(CustomerTag.expires_at.is_(None), CustomerTag.expires_at > now))).all()
    return Profile(customer_id=customer_id, tags={t: tag_weight(score) for t, _, score in rows},
                   tag_names={t: name for t, name, _ in rows}, bought=bought_products(session, customer_id, as_of),
                   now=now)


def sellable(session: Session, spu_ids: list[int]) -> dict[int, tuple]:
    """SPU → (name, one_time, link_url, miniprogram, lowest in-stock price) for those that can be
    sold now: on shelf, not deleted, with an active SKU that has stock nobody holds."""
    if not spu_ids:
        return {}
    available = ProductSku.on_hand - ProductSku.reserved
    rows = session.execute(
        select(ProductSpu.id, ProductSpu.name, ProductSpu.one_time, ProductSpu.link_url, ProductSpu.miniprogram,
               func.min(ProductSku.price_fen))
        .join(ProductSku, ProductSku.spu_id == ProductSpu.id)
        .where(ProductSpu.id.in_(spu_ids), ProductSpu.shelf == "on", ProductSpu.deleted_at.is_(None),
               ProductSku.status == "active", available > 0)
        .group_by(ProductSpu.id, ProductSpu.name, ProductSpu.one_time, ProductSpu.link_url, ProductSpu.miniprogram)).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def _combine(session: Session, profile: Profile, signal_keys) -> dict[int, Recommendation]:
    combined: dict[int, Recommendation] = {}
    for key in signal_keys:
        signal = SIGNALS[key]
        hits = signal.candidates(session, profile)
        best = max((h.score for h in hits.values()), default=0.0)
        if best <= 0:
            continue
        for spu, hit in hits.items():
            part = signal.weight * hit.score / best
            rec = combined.setdefault(spu, Recommendation(spu_id=spu, name="", score=0.0, reasons=[]))
            rec.score += part
            rec.signals[key] = part
            rec.reasons.append(hit.reason)
    return combined


def recommend(session: Session, customer_id: int, limit: int = 5, as_of: Optional[datetime] = None,
              signals=BLEND) -> list[Recommendation]:
    """The top `limit` products for this customer, best first, each with its reasons (strongest
    signal first). `as_of` ranks as the customer stood then (offline evaluation: purchases before it)."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    profile = profile_of(session, customer_id, as_of)
    combined = _combine(session, profile, signals)
    for spu, rec in combined.items():
        if spu in profile.bought:
            rec.score *= REPURCHASE_FACTOR
            rec.bought_before = True
        order = sorted(zip(rec.signals.values(), rec.reasons), key=lambda p: -p[0])
        rec.reasons = [reason for _, reason in order]
    ranked = sorted(combined.values(), key=lambda r: (-r.score, r.spu_id))
    out: list[Recommendation] = []
    batch = max(limit * 4, 20)
    for start in range(0, len(ranked), batch):  # usually one batch: most candidates are sellable
        chunk = ranked[start:start + batch]
        live = sellable(session, [r.spu_id for r in chunk])
        for rec in chunk:
            if rec.spu_id not in live:
                continue
            name, one_time, link_url, miniprogram, price = live[rec.spu_id]
            if one_time and rec.bought_before:
                continue
            rec.name, rec.link_url, rec.miniprogram, rec.price_fen = name, link_url, dict(miniprogram or {}), int(price)
            out.append(rec)
            if len(out) == limit:
                return out
    return out
