"""Offline evaluation: hold out each customer's last paid order, rebuild the tables from the rest,
rank for each customer as they stood just before that order, and count how often (hit-rate@k)
and how high (NDCG@k) the held-out products appear — for the model and, in the same run, for a
popularity baseline (the best sellers overall, under the same sellability rules). The tables
are rebuilt from all orders again at the end."""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import select
from sqlmodel import Session

from commerce.orders.models import OrderLine, SalesOrder
from commerce.recommend.ranker import BOUGHT_STATES, recommend
from commerce.recommend.refresh import rebuild


@dataclass
class HeldOut:
    customer_id: int
    order_id: int
    as_of: datetime
    products: set[int] = field(default_factory=set)


@dataclass
class Score:
    hits: int = 0
    dcg: float = 0.0
    customers: int = 0

    def add(self, ranked: list[int], wanted: set[int], k: int) -> None:
        self.customers += 1
        gains = [1.0 / math.log2(i + 2) for i, spu in enumerate(ranked[:k]) if spu in wanted]
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(wanted), k)))
        self.hits += 1 if gains else 0
        self.dcg += sum(gains) / ideal if ideal else 0.0

    @property
    def hit_rate(self) -> float:
        return self.hits / self.customers if self.customers else 0.0

    @property
    def ndcg(self) -> float:
        return self.dcg / self.customers if self.customers else 0.0


def held_out(session: Session) -> dict[int, HeldOut]:
    """Each customer with two or more paid orders → their last one (latest paid_at, then id)."""
    rows = session.execute(select(SalesOrder.customer_id, SalesOrder.id, SalesOrder.paid_at, OrderLine.spu_id)
                           .join(OrderLine, OrderLine.order_id == SalesOrder.id)
                           .where(SalesOrder.paid_at.is_not(None), SalesOrder.status.in_(BOUGHT_STATES),
                                  OrderLine.spu_id.is_not(None))).all()
    orders: dict[int, dict[int, tuple[datetime, set[int]]]] = {}
    for customer_id, order_id, paid_at, spu_id in rows:
        orders.setdefault(customer_id, {}).setdefault(order_id, (paid_at, set()))[1].add(spu_id)
    out = {}
    for customer_id, by_order in orders.items():
        if len(by_order) < 2:
            continue
        order_id = max(by_order, key=lambda o: (by_order[o][0], o))
        paid_at, products = by_order[order_id]
        out[customer_id] = HeldOut(customer_id, order_id, paid_at, products)
    return out


def evaluate(session: Session, k: int = 5, sample: Optional[int] = None, seed: int = 7,
             now: Optional[datetime] = None) -> dict:
    """{"customers", "model": {"hit_rate", "ndcg"}, "baseline": {...}, "ratio"}; `sample` evaluates a
    random subset of the held-out customers."""
    held = held_out(session)
    ids = sorted(held)
    if sample is not None and sample < len(ids):
        ids = sorted(random.Random(seed).sample(ids, sample))
    latest = max((h.as_of for h in held.values()), default=now)
    rebuild(session, now or latest, exclude_orders={h.order_id for h in held.values()})
    model, baseline = Score(), Score()
    for customer_id in ids:
        h = held[customer_id]
        ranked = [r.spu_id for r in recommend(session, customer_id, k, as_of=h.as_of)]
        model.add(ranked, h.products, k)
        popular = [r.spu_id for r in recommend(session, customer_id, k, as_of=h.as_of, signals=("popular_all",))]
        baseline.add(popular, h.products, k)
    rebuild(session, now)
    ratio = model.hit_rate / baseline.hit_rate if baseline.hit_rate else float("inf")
    return {"customers": len(ids), "k": k, "ratio": ratio,
            "model": {"hit_rate": model.hit_rate, "ndcg": model.ndcg},
            "baseline": {"hit_rate": baseline.hit_rate, "ndcg": baseline.ndcg}}
