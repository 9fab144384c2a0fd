"""智能推荐: the blend beats popularity on a planted set, never offers what cannot be sold, and
always says why."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.orders.models import OrderLine, SalesOrder
from commerce.recommend import evaluation, ranker, refresh
from commerce.recommend.models import RecommendBuild, RecommendCoPurchase
from crm.customers.models import Customer
from crm.tags.models import CustomerTag, Tag, TagCategory
from tests.support.recommend_data import generate

REASON_PREFIXES = ("命中标签「", "常一起购买「", "同类客户热销", "近期热销")


@pytest.fixture
def planted(db, clock):
    with db.write() as s:
        data = generate(s, now=clock.now())
    return data


def test_blend_beats_the_popularity_baseline_on_the_planted_set(db, planted, clock):
    with db.write() as s:
        result = evaluation.evaluate(s, k=5, now=clock.now())
    assert result["customers"] > 200
    model, base = result["model"], result["baseline"]
    assert model["hit_rate"] >= 1.5 * base["hit_rate"] > 0, result
    assert model["ndcg"] > base["ndcg"], result
    with db.read() as s:  # the tables were rebuilt from every order afterwards
        assert s.execute(select(RecommendBuild)).scalars().all()[-1].purchases == planted.orders


def test_nothing_unsellable_and_every_item_has_a_reason(db, planted, clock):
    with db.write() as s:
        refresh.rebuild(s, clock.now())
    banned = planted.out_of_stock | planted.off_shelf
    seen = set()
    with db.read() as s:
        for cid in planted.customer_ids:
            recs = ranker.recommend(s, cid, 10)
            bought = ranker.bought_products(s, cid)
            assert recs, cid
            for rec in recs:
                assert rec.spu_id not in banned
                assert not (rec.spu_id in planted.one_time and rec.spu_id in bought)
                assert rec.reasons and all(r.startswith(REASON_PREFIXES) for r in rec.reasons)
                assert rec.price_fen > 0 and rec.name.startswith("商品")
                seen.update(rec.reasons)
            scores = [r.score for r in recs]
            assert scores == sorted(scores, reverse=True)
    # all three signals contribute somewhere in the planted shop
    assert any(r.startswith("命中标签「兴趣") for r in seen)
    assert any(r.startswith("常一起购买「商品") for r in seen)
    assert "同类客户热销" in seen


def test_stock_is_read_live_and_reserved_units_do_not_count(db, planted, clock):
    with db.write() as s:
        refresh.rebuild(s, clock.now())
    cid = planted.customer_ids[0]
    with db.read() as s:
        first = ranker.recommend(s, cid, 3)[0].spu_id
    with db.write() as s:  # every unit held by unpaid orders: nothing left to sell
        s.execute(update(ProductSku).where(ProductSku.spu_id == first).values(reserved=ProductSku.on_hand))
    with db.read() as s:
        assert first not in [r.spu_id for r in ranker.recommend(s, cid, 10)]
    with db.write() as s:
        s.execute(update(ProductSku).where(ProductSku.spu_id == first).values(reserved=0, status="disabled"))
    with db.read() as s:
        assert first not in [r.spu_id for r in ranker.recommend(s, cid, 10)]
    with db.write() as s:
        s.execute(update(ProductSku).where(ProductSku.spu_id == first).values(status="active"))
        s.execute(update(ProductSpu).where(ProductSpu.id == first).values(deleted_at=clock.now()))
    with db.read() as s:
        assert first not in [r.spu_id for r in ranker.recommend(s, cid, 10)]


def _shop(s, clock):
    cat = TagCategory(name="人群")
    s.add(cat)
    s.flush()
    mom, golf = Tag(category_id=cat.id, name="宝妈", score=20), Tag(category_id=cat.id, name="高尔夫", score=0)
    s.add_all([mom, golf])
    s.flush()
    spus = {}
    for code, name, audience, one_time in (("A", "奶粉", [mom.id], False), ("B", "纸尿裤", [], False),
                                           ("C", "早教课", [mom.id], True), ("D", "球杆", [golf.id], False)):
        spu = ProductSpu(code=code, name=name, shelf="on", audience={"tag_ids": audience}, one_time=one_time)
        s.add(spu)
        s.flush()
        s.add(ProductSku(spu_id=spu.id, code=f"{code}-1", price_fen=1000, on_hand=5))
        spus[code] = spu.id
    customers = [Customer(name=f"c{i}") for i in range(4)]
    s.add_all(customers)
    s.flush()
    s.add(CustomerTag(customer_id=customers[0].id, tag_id=mom.id))
    paid = clock.now() - timedelta(days=3)
    baskets = {1: ["A", "B"], 2: ["A", "B"], 0: ["C", "A"], 3: ["D"]}
    for idx, codes in baskets.items():
        for n, code in enumerate(codes):
            order = SalesOrder(order_no=f"N{idx}{n}", customer_id=customers[idx].id, status="paid",
                               paid_at=paid + timedelta(minutes=n), total_fen=1000, paid_fen=1000)
            s.add(order)
            s.flush()
            s.add(OrderLine(order_id=order.id, spu_id=spus[code], name=code, amount_fen=1000))
    # a pending (unpaid) order is not a purchase
    pending = SalesOrder(order_no="P1", customer_id=customers[0].id, status="pending")
    s.add(pending)
    s.flush()
    s.add(OrderLine(order_id=pending.id, spu_id=spus["D"], name="D"))
    return spus, [c.id for c in customers]


def test_reasons_name_the_tag_and_the_product_bought_with_it(db, clock):
    with db.write() as s:
        spus, cids = _shop(s, clock)
        refresh.rebuild(s, clock.now())
    with db.read() as s:
        assert ranker.bought_products(s, cids[0]).keys() == {spus["A"], spus["C"]}
        pair = s.execute(select(RecommendCoPurchase).where(RecommendCoPurchase.spu_id == spus["A"],
                                                           RecommendCoPurchase.other_id == spus["B"])).scalar_one()
        assert pair.buyers == 2
        recs = {r.spu_id: r for r in ranker.recommend(s, cids[0], 5)}
    assert spus["C"] not in recs  # one-time and already bought
    assert recs[spus["B"]].reasons[0] == "常一起购买「奶粉」" and not recs[spus["B"]].bought_before
    assert "命中标签「宝妈」" in recs[spus["A"]].reasons and recs[spus["A"]].bought_before
    assert spus["D"] not in recs or recs[spus["D"]].reasons == ["近期热销"]


def test_product_tags_and_saved_query_tags_are_targets(db, clock):
    from crm.customers.models import SavedQuery

    with db.write() as s:
        cat = TagCategory(name="t")
        s.add(cat)
        s.flush()
        t1, t2, t3 = (Tag(category_id=cat.id, name=n) for n in ("甲", "乙", "丙"))
        s.add_all([t1, t2, t3])
        s.flush()
        saved = SavedQuery(user_id=1, name="q", query={"include_tags": [t3.id]})
        s.add(saved)
        s.flush()
        spu = ProductSpu(code="Z", name="z", tag_ids=[t1.id], audience={"tag_ids": [t2.id], "saved_query_id": saved.id})
        s.add(spu)
        s.flush()
        assert refresh.target_tags(s, spu) == {t1.id: refresh.PRODUCT_TAG, t2.id: refresh.AUDIENCE_TAG,
                                               t3.id: refresh.AUDIENCE_TAG}


def test_hourly_job_rebuilds_and_is_registered(services, planted):
    from commerce.recommend import schedule
    from engine.crm_wiring import all_cron_jobs

    summary = schedule.refresh(services)
    assert summary.startswith(f"商品推荐数据刷新：{planted.orders} 条购买记录") and "对常一起购买" in summary
    with services.db.read() as s:
        assert refresh.last_build(s).pairs > 0
        assert ranker.recommend(s, planted.customer_ids[0], 3)
    [job] = [j for j in all_cron_jobs(services.settings) if j.key == "recommend_refresh"]
    assert job.cron == {"minute": 40} and job.name == "商品推荐数据刷新"
