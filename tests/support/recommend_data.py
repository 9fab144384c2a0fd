"""A generated shop with planted affinities, for the recommendation tests and bench/recommend.py.

Planted: product i is aimed at tag i % tags (its 目标客户群) and sells by a Zipf law within that
group; products 2j and 2j+1 are bought together; each customer holds one or two tags. A
customer's orders pick, in turn: a product of one of their tag groups (50%), the partner of
something they bought (30%), or a best seller overall (20%). A few products are then out of
stock (the most popular of some groups, so a ranking that ignored stock would offer them), off
shelf, or one-time. Rows go in through Core inserts in chunks (1M orders in about a minute on SQLite).
"""
from __future__ import annotations

import bisect
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select
from sqlmodel import Session

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.orders.models import OrderLine, SalesOrder
from crm.customers.models import Customer
from crm.tags.models import CustomerTag, Tag, TagCategory

CHUNK = 5000


@dataclass
class Planted:
    tag_ids: list[int]
    spu_ids: list[int]
    customer_ids: list[int]
    out_of_stock: set[int] = field(default_factory=set)
    off_shelf: set[int] = field(default_factory=set)
    one_time: set[int] = field(default_factory=set)
    orders: int = 0


def _put(session: Session, model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model.__table__), rows[start:start + CHUNK])


def _template(model, **kw) -> dict:
    row = model(**kw).model_dump()
    row.pop("id", None)
    return row


def _zipf_picker(items: list[int], rnd: random.Random, s: float = 1.1):
    weights, total = [], 0.0
    for rank in range(len(items)):
        total += 1.0 / (rank + 1) ** s
        weights.append(total)
    return lambda: items[min(bisect.bisect_left(weights, rnd.random() * total), len(items) - 1)]


def generate(session: Session, *, customers: int = 300, spus: int = 60, skus_per_spu: int = 2, orders: int = 1500,
             tags: int = 6, seed: int = 11, now: datetime, id_base: int = 0) -> Planted:
    rnd = random.Random(seed)
    category = TagCategory(name="兴趣偏好")
    session.add(category)
    session.flush()
    _put(session, Tag, [{**_template(Tag, category_id=category.id, name=f"兴趣{t}"), "score": rnd.randint(0, 30)}
                        for t in range(tags)])
    tag_ids = list(session.execute(select(Tag.id).where(Tag.category_id == category.id).order_by(Tag.id)).scalars())

    spu_tpl = _template(ProductSpu, code="x", name="x", shelf="on")
    spu_rows = []
    for i in range(spus):
        spu_rows.append({**spu_tpl, "code": f"P{id_base}-{i:06d}", "name": f"商品{i:05d}",
                         "audience": {"tag_ids": [tag_ids[i % tags]]}, "link_url": f"https://shop.example.com/p/{i}",
                         "one_time": i % 10 == 9})
    _put(session, ProductSpu, spu_rows)
    spu_ids = list(session.execute(select(ProductSpu.id).where(ProductSpu.code.like(f"P{id_base}-%"))
                                   .order_by(ProductSpu.id)).scalars())
    planted = Planted(tag_ids=tag_ids, spu_ids=spu_ids, customer_ids=[])
    groups = [[spu_ids[i] for i in range(g, spus, tags)] for g in range(tags)]
    # The group's best seller is out of stock in every third group; a few others are off shelf.
    planted.out_of_stock = {groups[g][0] for g in range(0, tags, 3) if groups[g]}
    planted.off_shelf = {spu_ids[i] for i in range(7, spus, 50)} - planted.out_of_stock
    planted.one_time = {spu_ids[i] for i in range(spus) if i % 10 == 9}
    session.execute(ProductSpu.__table__.update().where(ProductSpu.id.in_(planted.off_shelf)).values(shelf="off"))

    sku_tpl = _template(ProductSku, spu_id=0, code="x")
    _put(session, ProductSku, [
        {**sku_tpl, "spu_id": spu, "code": f"S{id_base}-{spu}-{k}", "spec_key": f"规格={k}", "specs": {"规格": str(k)},
         "price_fen": 990 + 100 * (spu % 50), "on_hand": 0 if spu in planted.out_of_stock else 1000, "reserved": 0}
        for spu in spu_ids for k in range(skus_per_spu)])

    cust_tpl = _template(Customer)
    _put(session, Customer, [{**cust_tpl, "name": f"客户{id_base}-{c}", "source": "planted"} for c in range(customers)])
    customer_ids = list(session.execute(select(Customer.id).where(Customer.name.like(f"客户{id_base}-%"))
                                        .order_by(Customer.id)).scalars())
    planted.customer_ids = customer_ids
    held: dict[int, list[int]] = {}
    link_tpl = _template(CustomerTag, customer_id=0, tag_id=0)
    links = []
    for cid in customer_ids:
        mine = rnd.sample(range(tags), 2 if rnd.random() < 0.4 else 1)
        held[cid] = mine
        links.extend({**link_tpl, "customer_id": cid, "tag_id": tag_ids[g]} for g in mine)
    _put(session, CustomerTag, links)

    in_group = [_zipf_picker(g, rnd) for g in groups]
    overall = _zipf_picker(spu_ids, rnd, 1.0)
    partner = {spu_ids[i]: spu_ids[i ^ 1] for i in range(spus) if (i ^ 1) < spus}
    per_customer = [0] * customers
    for _ in range(orders):
        per_customer[rnd.randrange(customers)] += 1
    order_tpl = _template(SalesOrder, order_no="x", customer_id=0, status="completed")
    line_tpl = _template(OrderLine, order_id=0)
    start = now - timedelta(days=365)
    order_rows, baskets = [], []
    for idx, cid in enumerate(customer_ids):
        bought: list[int] = []
        times = sorted(start + timedelta(seconds=rnd.randrange(365 * 86400 - 3600)) for _ in range(per_customer[idx]))
        for at in times:
            roll = rnd.random()
            if roll < 0.3 and bought:
                spu = partner.get(rnd.choice(bought)) or in_group[rnd.choice(held[cid])]()
            elif roll < 0.8:
                spu = in_group[rnd.choice(held[cid])]()
            else:
                spu = overall()
            bought.append(spu)
            n = len(order_rows) + 1
            order_rows.append({**order_tpl, "order_no": f"R{id_base}{n:09d}", "customer_id": cid, "goods_fen": 990,
                               "total_fen": 990, "paid_fen": 990, "created_at": at, "paid_at": at, "completed_at": at,
                               "updated_at": at})
            baskets.append(spu)
    for start_at in range(0, len(order_rows), CHUNK):
        chunk = order_rows[start_at:start_at + CHUNK]
        session.execute(insert(SalesOrder.__table__), chunk)
    first = session.execute(select(SalesOrder.id).where(SalesOrder.order_no == f"R{id_base}{1:09d}")).scalar()
    _put(session, OrderLine, [{**line_tpl, "order_id": first + i, "spu_id": spu, "sku_code": "", "name": "",
                               "unit_price_fen": 990, "amount_fen": 990} for i, spu in enumerate(baskets)])
    planted.orders = len(order_rows)
    return planted


def tagged(session: Session, tags: dict[str, int], people: list[tuple[Customer, tuple[str, ...]]],
           category: str = "人群") -> tuple[dict[str, int], list[int]]:
    """A few tags (name → score) in one category and customers holding some of them, for the
    small hand-made shops of the audience, console and marketing tests: (tag ids by name, customer ids)."""
    cat = TagCategory(name=category)
    session.add(cat)
    session.flush()
    rows = {name: Tag(category_id=cat.id, name=name, score=score) for name, score in tags.items()}
    session.add_all(list(rows.values()) + [c for c, _ in people])
    session.flush()
    session.add_all([CustomerTag(customer_id=c.id, tag_id=rows[name].id) for c, names in people for name in names])
    session.flush()
    return {name: t.id for name, t in rows.items()}, [c.id for c, _ in people]
