"""Coupons (unique codes, validity, one use even when redeemed concurrently) and blind boxes
(weighted draws never past stock, even from many threads against the real database)."""
from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from community import points
from community.errors import CommunityError, CommunityNotFound
from community.rewards import boxes, coupons, ledger
from community.rewards.models import BoxDraw, BoxPrize, Coupon, CouponBatch
from crm.customers.models import Customer
from crm.scope import Viewer


def _customers(db, n=2, owner=None):
    with db.write() as s:
        rows = [Customer(name=f"客户{i}", owner_id=owner) for i in range(n)]
        s.add_all(rows)
        s.flush()
        return [c.id for c in rows]


def _batch(db, clock, **extra):
    data = {"name": "满100减20", "kind": "cash", "value": "2000", "total": "3", **extra}
    with db.write() as s:
        return coupons.create_batch(s, data, valid_from=clock.now() - timedelta(hours=1),
                                    valid_until=clock.now() + timedelta(days=7)).id


def test_batch_form_is_checked_field_by_field(db, clock):
    with db.write() as s:
        for data, field in (({"name": ""}, "name"), ({"name": "x", "kind": "cash", "value": "0"}, "value"),
                            ({"name": "x", "kind": "discount", "value": "120"}, "value"),
                            ({"name": "x", "kind": "nope"}, "kind"), ({"name": "x", "value": "abc"}, "value")):
            with pytest.raises(CommunityError) as exc:
                coupons.create_batch(s, data, valid_from=None, valid_until=None)
            assert field in exc.value.errors


def test_issue_is_idempotent_capped_and_codes_are_unique(db, clock):
    batch = _batch(db, clock)
    c1, c2 = _customers(db)
    with db.write() as s:
        first, new = coupons.issue(s, batch, c1, source="manual", source_ref="a", reason="测试", now=clock.now())
        again, repeat = coupons.issue(s, batch, c1, source="manual", source_ref="a", reason="测试", now=clock.now())
        other, _ = coupons.issue(s, batch, c2, source="manual", source_ref="b", reason="测试", now=clock.now())
        coupons.issue(s, batch, c2, source="manual", source_ref="c", reason="测试", now=clock.now())
    assert new and not repeat and first.id == again.id and first.code != other.code and len(first.code) == 10
    with pytest.raises(coupons.CouponConflict, match="已发完"):
        with db.write() as s:
            coupons.issue(s, batch, c1, source="manual", source_ref="d", reason="测试", now=clock.now())
    with db.read() as s:
        assert s.get(CouponBatch, batch).issued == 3


def test_redeem_once_with_reasons(db, clock):
    batch = _batch(db, clock)
    (c1,) = _customers(db, 1)
    with db.write() as s:
        code = coupons.issue(s, batch, c1, source="manual", source_ref="a", reason="测试", now=clock.now())[0].code
    with db.write() as s:
        used = coupons.redeem(s, code.lower(), user_id=None, channel="api", now=clock.now())
    assert used.status == "redeemed" and used.redeem_channel == "api"
    with pytest.raises(coupons.CouponConflict, match="已核销"):
        with db.write() as s:
            coupons.redeem(s, code, user_id=None, channel="api", now=clock.now())
    with pytest.raises(CommunityNotFound):
        with db.write() as s:
            coupons.redeem(s, "NOPE", user_id=None, channel="api", now=clock.now())
    with db.write() as s:
        late = coupons.issue(s, batch, c1, source="manual", source_ref="b", reason="测试", now=clock.now())[0].code
    with pytest.raises(CommunityError, match="过期"):
        with db.write() as s:
            coupons.redeem(s, late, user_id=None, channel="api", now=clock.now() + timedelta(days=8))


def test_a_salesperson_cannot_redeem_another_ones_customer_coupon(db, clock):
    batch = _batch(db, clock)
    (theirs,) = _customers(db, 1, owner=99)
    with db.write() as s:
        code = coupons.issue(s, batch, theirs, source="manual", source_ref="x", reason="测试", now=clock.now())[0].code
    viewer = Viewer(7, frozenset({"rewards.redeem"}))
    with pytest.raises(CommunityNotFound):
        with db.write() as s:
            coupons.redeem(s, code, user_id=7, channel="console", viewer=viewer, now=clock.now())


def test_concurrent_redemption_uses_a_code_once(db, clock):
    batch = _batch(db, clock)
    (c1,) = _customers(db, 1)
    with db.write() as s:
        code = coupons.issue(s, batch, c1, source="manual", source_ref="a", reason="测试", now=clock.now())[0].code
    results = []

    def attempt():
        try:
            with db.write() as s:
                coupons.redeem(s, code, user_id=None, channel="api", now=clock.now())
            results.append("ok")
        except coupons.CouponConflict:
            results.append("used")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(results) == ["ok"] + ["used"] * 7
    with db.read() as s:
        assert s.get(CouponBatch, batch).redeemed == 1


def _pool(db, clock, stock=(3, 2)):
    batch = _batch(db, clock, total="0")
    with db.write() as s:
        pool = boxes.create_pool(s, "新人盲盒")
        boxes.add_prize(s, pool.id, {"name": "100 积分", "kind": "points", "points": "100", "weight": "5", "stock": str(stock[0])})
        boxes.add_prize(s, pool.id, {"name": "20 元券", "kind": "coupon", "coupon_batch_id": str(batch), "weight": "1",
                                     "stock": str(stock[1])})
        return pool.id


def test_draw_gives_the_prize_once_and_stops_when_empty(db, clock):
    pool = _pool(db, clock, stock=(1, 1))
    (c1,) = _customers(db, 1)
    rng = random.Random(1)
    with db.write() as s:
        first, new = boxes.draw(s, pool, c1, source="manual", source_ref="d1", reason="测试", now=clock.now(), rng=rng)
        again, repeat = boxes.draw(s, pool, c1, source="manual", source_ref="d1", reason="测试", now=clock.now(), rng=rng)
        second, _ = boxes.draw(s, pool, c1, source="manual", source_ref="d2", reason="测试", now=clock.now(), rng=rng)
    assert new and not repeat and first.id == again.id and {first.kind, second.kind} == {"points", "coupon"}
    with pytest.raises(boxes.PoolEmpty):
        with db.write() as s:
            boxes.draw(s, pool, c1, source="manual", source_ref="d3", reason="测试", now=clock.now())
    with db.read() as s:
        assert points.balance(s, c1) == 100
        assert len(s.exec(select(Coupon).where(Coupon.customer_id == c1)).all()) == 1


def test_concurrent_draws_never_exceed_stock(db, clock):
    pool = _pool(db, clock, stock=(4, 3))
    customers = _customers(db, 12)
    won, empty = [], []

    def attempt(cid):
        try:
            with db.write() as s:
                won.append(boxes.draw(s, pool, cid, source="manual", source_ref=f"t{cid}", reason="并发",
                                      now=clock.now())[0].prize_id)
        except boxes.PoolEmpty:
            empty.append(cid)

    threads = [threading.Thread(target=attempt, args=(c,)) for c in customers]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(won) == 7 and len(empty) == 5
    with db.read() as s:
        prizes = s.exec(select(BoxPrize).where(BoxPrize.pool_id == pool)).all()
        assert all(p.stock == 0 for p in prizes) and sum(p.drawn for p in prizes) == 7
        assert len(s.exec(select(BoxDraw)).all()) == 7


def test_ledger_adjust_and_expiry(db, clock):
    (c1,) = _customers(db, 1)
    with db.write() as s:
        points.earn(s, c1, 30, reason="活动", source="fission", source_ref="e1", expires_at=clock.now() + timedelta(days=1))
        points.earn(s, c1, 20, reason="打卡", source="checkin", source_ref="e2")
        ledger.adjust(s, c1, "-10", "客服补偿扣回", operator_id=1)
        with pytest.raises(CommunityError):
            ledger.adjust(s, c1, "5", "", operator_id=1)
    with db.write() as s:
        assert ledger.expire_due(s, clock.now() + timedelta(days=2)) == 1
        assert ledger.expire_due(s, clock.now() + timedelta(days=3)) == 0
    with db.read() as s:
        assert points.balance(s, c1) == 20  # 30 - 10 spent from the soonest-expiring, 20 lapsed
        kinds = [e.kind for e in ledger.entries(s, c1)]
    assert kinds == ["expire", "adjust", "earn", "earn"]
