"""Demo data for 商品与订单 and 数据中心 (`init --demo`): a small catalogue with spec dimensions,
stock received through the ledger, a month of orders by the demo customers (paid, shipped,
completed, one cancelled, one partly refunded), daily targets, and the rollups, RFM scores and
recommendation tables built once, so 首页, 数据报表, 看板 and 智能推荐 show figures at once.

Everything goes through the real services (orders reserve and consume stock, emit their events,
keep the customers' purchase fields), with the demo clock set back day by day.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlmodel import select

from analytics import rollups, snapshot, targets
from commerce.catalog import categories, products
from commerce.catalog.models import ProductSku, ProductSpu
from commerce.errors import InsufficientStock
from commerce.orders import flow, refunds, service as orders
from commerce.recommend.refresh import rebuild as rebuild_recommendations
from config.clock import to_local
from crm.customers.models import Customer
from crm.scope import SYSTEM
from crm.tags.models import Tag

DEMO_CODE = "DEMO-SERUM"
DAYS = 30

# (code, name, category, spec dims, [(specs, price 元 as fen, stock)], one_time, audience tag names)
CATALOGUE = [
    ("DEMO-SERUM", "修护精华液", "护肤", [{"name": "容量", "values": ["30ml", "50ml"]}],
     [({"容量": "30ml"}, 19900, 80), ({"容量": "50ml"}, 29900, 40)], False, ["高意向"]),
    ("DEMO-CREAM", "保湿面霜", "护肤", [], [({}, 15900, 60)], False, ["高意向", "抖音来源"]),
    ("DEMO-TEE", "纯棉T恤", "服饰", [{"name": "颜色", "values": ["白", "黑"]}, {"name": "尺码", "values": ["M", "L"]}],
     [({"颜色": "白", "尺码": "M"}, 9900, 30), ({"颜色": "白", "尺码": "L"}, 9900, 30),
      ({"颜色": "黑", "尺码": "M"}, 10900, 25), ({"颜色": "黑", "尺码": "L"}, 10900, 3)], False, []),
    ("DEMO-CLASS", "护肤体验课", "课程", [], [({}, 990, 500)], True, ["表单来源"]),
]


def _catalogue(s) -> dict:
    tags = {t.name: t.id for t in s.exec(select(Tag))}
    cats = {}
    for name in ("护肤", "服饰", "课程"):
        cats[name] = categories.create_category(s, {"name": name}).id
    for code, name, cat, dims, skus, one_time, audience in CATALOGUE:
        data = {"code": code, "name": name, "category_id": cats[cat], "spec_dims": dims, "one_time": one_time,
                "description": f"{name}：演示商品", "link_url": f"https://shop.example.com/p/{code.lower()}",
                "audience_tag_ids": [tags[t] for t in audience if t in tags],
                "skus": [{"specs": specs, "price_fen": price, "on_hand": stock, "low_stock_threshold": 5}
                         for specs, price, stock in skus]}
        spu = products.create_spu(s, data, user_id=None)
        products.set_shelf(s, spu.id, "on", user_id=None)
    return {sku.code: sku.id for sku in s.exec(select(ProductSku))}


def seed_demo_commerce(runtime) -> None:
    """Idempotent: does nothing once the demo catalogue exists."""
    svc = runtime.services
    tz = svc.settings.timezone
    with svc.db.read() as s:
        if s.exec(select(ProductSpu).where(ProductSpu.code == DEMO_CODE)).first() is not None:
            return
    with svc.db.write() as s:
        skus = _catalogue(s)
    with svc.db.read() as s:
        customers = [c.id for c in s.exec(select(Customer).where(Customer.status == "active").order_by(Customer.id))]
    rng, now = random.Random(7), svc.now()
    codes = sorted(skus)
    for i, customer_id in enumerate(customers[:16]):
        for n in range(rng.choice((1, 1, 2, 3))):
            at = now - timedelta(days=rng.randrange(1, DAYS), hours=rng.randrange(0, 10))
            lines = [{"sku_id": skus[code], "quantity": rng.choice((1, 1, 2))} for code in rng.sample(codes, rng.choice((1, 2)))]
            try:
                with svc.db.write() as s:
                    order = orders.create_order(s, {"customer_id": customer_id, "lines": lines}, SYSTEM, tz=tz, now=at).order
            except InsufficientStock:  # 黑色 L runs out on purpose: 库存预警 has something to show
                continue
            with svc.db.write() as s:
                if (i + n) % 7 == 6:
                    flow.transition(s, order.id, "cancel", SYSTEM, reason="客户改主意", now=at + timedelta(minutes=20), tz=tz)
                    continue
                flow.transition(s, order.id, "pay", SYSTEM, reason="演示：客户已付款", now=at + timedelta(minutes=5), tz=tz)
                if (i + n) % 3:
                    flow.transition(s, order.id, "ship", SYSTEM, now=at + timedelta(days=1), tz=tz)
                if (i + n) % 3 == 1:
                    flow.transition(s, order.id, "complete", SYSTEM, now=at + timedelta(days=3), tz=tz)
                if (i + n) % 11 == 5:
                    refunds.refund(s, order.id, {"amount_fen": order.total_fen // 2, "restock": False,
                                                 "reason": "演示：部分退款"}, SYSTEM, now=at + timedelta(days=2), tz=tz)
    with svc.db.write() as s:
        targets.save(s, "company", 0, "day", {"new_friends": 100, "moments_posted": 5, "reached": 50, "consulted": 10,
                                             "buyers": 2, "gmv_fen": 200000}, None)
    today = to_local(now, tz).date()
    with svc.db.write() as s:
        rollups.recompute(s, today - timedelta(days=DAYS + 1), today, tz=tz)
    with svc.db.write() as s:
        snapshot.rebuild(s, now, tz)
    with svc.db.write() as s:
        rebuild_recommendations(s, now)
