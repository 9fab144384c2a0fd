"""Rebuilds the tables ranking reads, from paid orders, customer tags and product targeting.

One pass over the purchases (customer, product, when; paid/shipped/completed orders), grouped
by customer in Python: co-purchase pairs are counted per customer over at most the 50 products
they bought most recently (bounding a heavy buyer's pairs), and each purchase in the last 180
days adds its freshness (half after 30 days) to the popularity of the product in the buyer's
segments. Only the strongest 30 pairs per product and 50 products per segment are stored.
The counting reads in its own transaction; the swap is one short write, so ranking never sees
half a build and writers are not held up by the counting. Measured in
bench/recommend.py (1M orders).
"""
from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import delete, insert, or_, select
from sqlmodel import Session

from commerce.catalog.models import ProductSpu
from commerce.orders.models import OrderLine, SalesOrder
from commerce.recommend.models import RecommendBuild, RecommendCoPurchase, RecommendPopularity, RecommendProductTag
from commerce.recommend.ranker import BOUGHT_STATES
from commerce.recommend.segment_popularity import EVERYONE
from commerce.recommend.tag_affinity import WEIGHT_SCALE
from config.clock import utcnow
from crm.customers.models import SavedQuery
from crm.tags.models import CustomerTag, Tag

PAIRS_PER_PRODUCT = 30
PRODUCTS_PER_SEGMENT = 50
SEEDS_PER_CUSTOMER = 50
MIN_PAIR_BUYERS = 2  # one customer's basket is an anecdote, two is a pattern
POPULAR_WINDOW_DAYS = 180
POPULAR_HALF_LIFE_DAYS = 30.0
AUDIENCE_TAG, PRODUCT_TAG = 1.0, 0.7  # 目标客户群 tags aim harder than the product's own tags
CHUNK = 5000


def target_tags(session: Session, spu: ProductSpu) -> dict[int, float]:
    """Tag → base weight a product aims at: its audience tags, the 包含标签 of its audience's saved
    query, and (weaker) its own product tags."""
    out: dict[int, float] = {}
    audience = spu.audience or {}
    for tag_id in spu.tag_ids or []:
        out[int(tag_id)] = PRODUCT_TAG
    included = list(audience.get("tag_ids") or [])
    if audience.get("saved_query_id"):
        saved = session.get(SavedQuery, int(audience["saved_query_id"]))
        included += list((saved.query or {}).get("include_tags") or []) if saved else []
    for tag_id in included:
        out[int(tag_id)] = AUDIENCE_TAG
    return out


def _tag_rows(spu_id: int, tags: dict[int, float]) -> list[dict]:
    spread = math.sqrt(len(tags)) if tags else 1.0
    return [{"tag_id": t, "spu_id": spu_id, "weight": max(1, round(WEIGHT_SCALE * w / spread))} for t, w in tags.items()]


def sync_product(session: Session, spu_id: int) -> None:
    """Re-index one product's target tags now (called when its 目标客户群 is saved)."""
    session.execute(delete(RecommendProductTag).where(RecommendProductTag.spu_id == spu_id))
    spu = session.get(ProductSpu, spu_id)
    if spu is not None and spu.deleted_at is None:
        rows = _tag_rows(spu_id, target_tags(session, spu))
        if rows:
            session.execute(insert(RecommendProductTag), rows)


def _purchases(session: Session, exclude_orders: set[int]) -> Iterable[tuple[int, int, datetime]]:
    """(customer, product, paid_at) ordered by customer."""
    stmt = (select(SalesOrder.customer_id, SalesOrder.id, OrderLine.spu_id, SalesOrder.paid_at)
            .join(OrderLine, OrderLine.order_id == SalesOrder.id)
            .where(SalesOrder.paid_at.is_not(None), SalesOrder.status.in_(BOUGHT_STATES), OrderLine.spu_id.is_not(None))
            .order_by(SalesOrder.customer_id))
    for customer_id, order_id, spu_id, paid_at in session.execute(stmt).yield_per(CHUNK):
        if order_id not in exclude_orders:
            yield customer_id, spu_id, paid_at


def _customer_tags(session: Session, now: datetime) -> dict[int, list[int]]:
    out: dict[int, list[int]] = defaultdict(list)
    stmt = (select(CustomerTag.customer_id, CustomerTag.tag_id).join(Tag, Tag.id == CustomerTag.tag_id)
            .where(Tag.enabled.is_(True), or_(CustomerTag.expires_at.is_(None), CustomerTag.expires_at > now)))
    for customer_id, tag_id in session.execute(stmt).yield_per(CHUNK):
        out[customer_id].append(tag_id)
    return out


class _Counts:
    def __init__(self, now: datetime, tags: dict[int, list[int]]):
        self.now, self.tags = now, tags
        self.buyers: dict[int, int] = defaultdict(int)
        self.pairs: dict[tuple[int, int], int] = defaultdict(int)
        self.pop: dict[tuple[int, int], float] = defaultdict(float)
        self.pop_buyers: dict[tuple[int, int], int] = defaultdict(int)
        self.segment_buyers: dict[int, int] = defaultdict(int)
        self.purchases = 0
        self.since = now - timedelta(days=POPULAR_WINDOW_DAYS)

    def customer(self, customer_id: int, basket: dict[int, datetime]) -> None:
        items = sorted(basket, key=lambda s: basket[s], reverse=True)[:SEEDS_PER_CUSTOMER]
        for spu in basket:
            self.buyers[spu] += 1
        for i, a in enumerate(items):
            for b in items[i + 1:]:
                self.pairs[(a, b) if a < b else (b, a)] += 1
        segments = [EVERYONE] + self.tags.get(customer_id, [])
        recent = {s: at for s, at in basket.items() if at >= self.since}
        if recent:
            for seg in segments:
                self.segment_buyers[seg] += 1
        for spu, at in recent.items():
            fresh = 0.5 ** (max((self.now - at).total_seconds(), 0.0) / 86400.0 / POPULAR_HALF_LIFE_DAYS)
            for seg in segments:
                self.pop[(seg, spu)] += fresh
                self.pop_buyers[(seg, spu)] += 1


def _count(session: Session, now: datetime, exclude_orders: set[int]) -> _Counts:
    counts = _Counts(now, _customer_tags(session, now))
    current, basket = None, {}
    for customer_id, spu_id, paid_at in _purchases(session, exclude_orders):
        counts.purchases += 1
        if customer_id != current:
            if basket:
                counts.customer(current, basket)
            current, basket = customer_id, {}
        if paid_at > now:
            continue
        if spu_id not in basket or basket[spu_id] < paid_at:
            basket[spu_id] = paid_at
    if basket:
        counts.customer(current, basket)
    return counts


def _best(groups: dict[int, list[tuple[float, dict]]], keep: int) -> list[dict]:
    out = []
    for items in groups.values():
        items.sort(key=lambda p: -p[0])
        out.extend(row for _, row in items[:keep])
    return out


def _insert(session: Session, table, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(table), rows[start:start + CHUNK])


@dataclass
class Counted:
    """What a rebuild will store, computed from a read-only session (no write lock held)."""

    purchases: int
    pair_rows: list[dict]
    popular_rows: list[dict]
    segments: int
    started: float


def compute(session: Session, now: Optional[datetime] = None, exclude_orders: Iterable[int] = ()) -> Counted:
    """The counting pass (the slow part: one read of every purchase); `exclude_orders` leaves
    some orders out (offline evaluation's held-out orders)."""
    started = time.perf_counter()
    counts = _count(session, now or utcnow(), set(exclude_orders))
    pairs: dict[int, list[tuple[float, dict]]] = defaultdict(list)
    for (a, b), n in counts.pairs.items():
        if n < MIN_PAIR_BUYERS:
            continue
        score = n / math.sqrt(counts.buyers[a] * counts.buyers[b])
        pairs[a].append((score, {"spu_id": a, "other_id": b, "buyers": n, "score": score}))
        pairs[b].append((score, {"spu_id": b, "other_id": a, "buyers": n, "score": score}))
    popular: dict[int, list[tuple[float, dict]]] = defaultdict(list)
    for (seg, spu), fresh in counts.pop.items():
        score = fresh / counts.segment_buyers[seg]
        popular[seg].append((score, {"tag_id": seg, "spu_id": spu, "buyers": counts.pop_buyers[(seg, spu)],
                                     "score": score}))
    return Counted(counts.purchases, _best(pairs, PAIRS_PER_PRODUCT), _best(popular, PRODUCTS_PER_SEGMENT),
                   len(popular), started)


def store(session: Session, counted: Counted) -> RecommendBuild:
    """Swaps the tables in one short write; the product ⇄ tag index is read here, so a 目标客户群
    saved while the counting ran is not overwritten by an older copy."""
    tag_rows = []
    for spu in session.execute(select(ProductSpu).where(ProductSpu.deleted_at.is_(None))).scalars():
        tag_rows.extend(_tag_rows(spu.id, target_tags(session, spu)))
    for table in (RecommendCoPurchase, RecommendPopularity, RecommendProductTag):
        session.execute(delete(table))
    _insert(session, RecommendCoPurchase, counted.pair_rows)
    _insert(session, RecommendPopularity, counted.popular_rows)
    _insert(session, RecommendProductTag, tag_rows)
    build = RecommendBuild(built_at=utcnow(), purchases=counted.purchases, pairs=len(counted.pair_rows),
                           segments=counted.segments, seconds=round(time.perf_counter() - counted.started, 3))
    session.add(build)
    session.flush()
    return build


def rebuild(session: Session, now: Optional[datetime] = None, exclude_orders: Iterable[int] = ()) -> RecommendBuild:
    """compute + store in one session (tests, the offline evaluation); the hourly job reads and
    writes in separate transactions (commerce.recommend.schedule)."""
    return store(session, compute(session, now, exclude_orders))


def last_build(session: Session) -> Optional[RecommendBuild]:
    return session.execute(select(RecommendBuild).order_by(RecommendBuild.id.desc()).limit(1)).scalars().first()
