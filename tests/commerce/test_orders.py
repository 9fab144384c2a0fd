"""Orders: creation reserves stock all or nothing, the status flow, refunds, events and the
customer's purchase fields."""
from __future__ import annotations

import pytest
from sqlmodel import func, select

from commerce.catalog.models import ProductSku
from commerce.errors import CommerceError, InsufficientStock, OrderNotFound
from commerce.orders import flow, refunds, service
from commerce.orders.models import OrderLine, OrderTransition, SalesOrder
from commerce.stock.models import StockReservation
from crm.customers.models import Customer
from crm.scope import SYSTEM, Viewer
from events.models import EventRecord
from tests.commerce.order_world import SALES, ledger_matches_stock, make_world


@pytest.fixture
def w(db):
    return make_world(db)


def _create(db, viewer, data):
    with db.write() as s:
        return service.create_order(s, data, viewer).order.id


def _level(db, sku_id):
    with db.read() as s:
        sku = s.get(ProductSku, sku_id)
        return sku.on_hand, sku.reserved


def _events(db):
    with db.read() as s:
        return [(r.event_code, r.status) for r in s.exec(select(EventRecord).order_by(EventRecord.id))]


def test_create_reserves_every_line_and_credits_the_owner(db, w):
    oid = _create(db, w.a, {"customer_id": w.mine, "discount_fen": 100,
                            "lines": [{"sku_id": w.sku, "quantity": 2, "discount_fen": 80}, {"sku_code": "SKU-B", "quantity": 1}]})
    with db.read() as s:
        order = s.get(SalesOrder, oid)
        assert (order.status, order.goods_fen, order.total_fen, order.credited_user_id) == ("pending", 6900, 6800, w.alice)
        assert order.order_no.startswith("SO") and order.reserve_expires_at is not None
        lines = service.lines_of(s, oid)
        assert [(l.sku_code, l.name, l.amount_fen) for l in lines] == [("SKU-A", "体验课", 1900), ("SKU-B", "会员年卡", 5000)]
        assert s.exec(select(func.count()).select_from(StockReservation).where(StockReservation.status == "held")).one() == 2
        assert [t.to_status for t in s.exec(select(OrderTransition))] == ["pending"]
        assert ledger_matches_stock(s, w.sku) and ledger_matches_stock(s, w.sku2)
    assert _level(db, w.sku) == (20, 2)
    assert ("order.created", "accepted") in _events(db)


def test_one_line_over_stock_creates_nothing_and_names_the_sku(db, w):
    with pytest.raises(InsufficientStock) as caught, db.write() as s:
        service.create_order(s, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 1},
                                                                   {"sku_id": w.sku2, "quantity": 6}]}, w.a)
    assert caught.value.status == 409 and "SKU-B" in caught.value.message
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(SalesOrder)).one() == 0
        assert s.exec(select(func.count()).select_from(OrderLine)).one() == 0
    assert _level(db, w.sku) == (20, 0)


@pytest.mark.parametrize("lines, field", [
    ([{"sku_id": 1, "quantity": -1}], "lines[0].quantity"),
    ([{"sku_id": 1, "quantity": 1.5}], "lines[0].quantity"),
    ([{"sku_id": 1, "quantity": "2.0x"}], "lines[0].quantity"),
    ([{"sku_id": 1, "quantity": 1}, {"sku_id": 1, "quantity": 1, "unit_price_fen": 9.9}], "lines[1].unit_price_fen"),
    ([{"sku_id": 9999, "quantity": 1}], "lines[0].sku_id"),
    ([{"sku_code": "NOPE", "quantity": 1}], "lines[0].sku_id"),
    ([{"quantity": 1}], "lines[0].sku_id"),
    ([{"sku_id": 1, "quantity": 1, "discount_fen": 5000}], "lines[0].discount_fen"),
    ([], "lines"),
])
def test_bad_lines_are_refused_naming_the_field(db, w, lines, field):
    with pytest.raises(CommerceError) as caught, db.write() as s:
        service.create_order(s, {"customer_id": w.mine, "lines": lines}, w.a)
    assert field in caught.value.errors, caught.value.errors
    with db.read() as s:
        assert s.exec(select(func.count()).select_from(SalesOrder)).one() == 0
    assert _level(db, w.sku) == (20, 0)


def test_customer_scope_and_price_override(db, w):
    with pytest.raises(CommerceError) as caught, db.write() as s:
        service.create_order(s, {"customer_id": w.theirs, "lines": [{"sku_id": w.sku, "quantity": 1}]}, w.a)
    assert "customer_id" in caught.value.errors
    viewer_only = Viewer(w.alice, frozenset({"orders.view", "customers.view"}))
    with pytest.raises(CommerceError) as caught, db.write() as s:
        service.create_order(s, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 1, "unit_price_fen": 1}]},
                             viewer_only)
    assert "lines[0].unit_price_fen" in caught.value.errors
    oid = _create(db, w.a, {"customer_id": w.mine, "credited_user_id": w.bob,
                            "lines": [{"sku_id": w.sku, "quantity": 1, "unit_price_fen": 500}]})
    with db.read() as s:
        assert s.get(SalesOrder, oid).total_fen == 500 and s.get(SalesOrder, oid).credited_user_id == w.bob
        with pytest.raises(OrderNotFound):
            service.get_order(s, oid, w.b)  # bob cannot see alice's customer's order
        assert service.get_order(s, oid, Viewer(w.bob, SALES | {"orders.view_all"})).id == oid
        assert service.list_orders(s, w.b, service.OrderFilter())[1] == 0


def test_external_id_returns_the_same_order(db, w):
    data = {"customer_id": w.mine, "external_id": "T-1", "lines": [{"sku_id": w.sku, "quantity": 3}]}
    with db.write() as s:
        first = service.create_order(s, data, w.a, source="api")
    with db.write() as s:
        again = service.create_order(s, data, w.a, source="api")
    assert first.created and not again.created and again.order.id == first.order.id
    assert _level(db, w.sku) == (20, 3)


def test_pay_ship_complete_updates_stock_customer_and_events(db, w):
    oid = _create(db, w.a, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 2}]})
    with db.write() as s:
        flow.transition(s, oid, "pay", w.a)
    assert _level(db, w.sku) == (18, 0)
    with db.read() as s:
        c = s.get(Customer, w.mine)
        assert (c.order_count, c.total_spent_fen) == (1, 1980) and c.first_order_at is not None
    with db.write() as s:
        flow.transition(s, oid, "ship", w.a)
    with db.write() as s:
        flow.transition(s, oid, "complete", w.a, reason="客户确认收货")
    with pytest.raises(CommerceError) as caught, db.write() as s:
        flow.transition(s, oid, "cancel", w.a)
    assert caught.value.message == "订单状态不能从「已完成」变为「已取消」"
    with db.read() as s:
        assert [(t.from_status, t.to_status, t.operator_id) for t in s.exec(select(OrderTransition).order_by(OrderTransition.id))] == \
            [("", "pending", w.alice), ("pending", "paid", w.alice), ("paid", "shipped", w.alice), ("shipped", "completed", w.alice)]
        assert ledger_matches_stock(s, w.sku)
    codes = [c for c, status in _events(db) if status == "accepted"]
    assert codes == ["order.created", "order.paid", "order.shipped", "order.completed"]


def test_forbidden_jumps(db, w):
    oid = _create(db, w.a, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 1}]})
    for action, text in (("ship", "「待支付」变为「已发货」"), ("complete", "「待支付」变为「已完成」")):
        with pytest.raises(CommerceError) as caught, db.write() as s:
            flow.transition(s, oid, action, w.a)
        assert text in caught.value.message
    with pytest.raises(OrderNotFound), db.write() as s:
        flow.transition(s, oid, "pay", w.b)


def test_cancel_pending_releases_and_cancel_paid_refunds_in_full(db, w):
    first = _create(db, w.a, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 4}]})
    with db.write() as s:
        flow.transition(s, first, "cancel", w.a, reason="客户不要了")
    assert _level(db, w.sku) == (20, 0)
    second = _create(db, w.a, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 4}]})
    with db.write() as s:
        flow.transition(s, second, "pay", w.a)
    with db.write() as s:
        order = flow.transition(s, second, "cancel", w.a)
        assert (order.status, order.refunded_fen) == ("cancelled", 3960)
    assert _level(db, w.sku) == (20, 0)
    with db.read() as s:
        c = s.get(Customer, w.mine)
        assert (c.order_count, c.total_spent_fen, c.first_order_at) == (0, 0, None)
        assert ledger_matches_stock(s, w.sku)
    codes = [c for c, _ in _events(db)]
    assert codes.count("order.cancelled") == 2 and codes.count("order.refunded") == 1


def test_partial_refunds_then_full(db, w):
    oid = _create(db, w.a, {"customer_id": w.mine, "discount_fen": 100,
                            "lines": [{"sku_id": w.sku, "quantity": 2}, {"sku_id": w.sku2, "quantity": 1}]})
    with db.write() as s:
        flow.transition(s, oid, "pay", w.a)
        line_a, line_b = service.lines_of(s, oid)
    with db.write() as s:
        r = refunds.refund(s, oid, {"lines": [{"line_id": line_a.id, "quantity": 1}], "reason": "少发一件"}, w.a)
        assert r.amount_fen == 990 - 28 // 2  # line A's share of the 100 discount is 28 (1980/6980)
    assert _level(db, w.sku) == (19, 0)
    with pytest.raises(CommerceError) as caught, db.write() as s:
        refunds.refund(s, oid, {"amount_fen": 100_000}, w.a)
    assert "amount_fen" in caught.value.errors
    with pytest.raises(CommerceError) as caught, db.write() as s:
        refunds.refund(s, oid, {"lines": [{"line_id": line_a.id, "quantity": 2}]}, w.a)
    assert "最多可退 1 件" in caught.value.errors["lines[0].quantity"]
    with db.read() as s:
        assert s.get(SalesOrder, oid).status == "paid"
        assert s.get(Customer, w.mine).total_spent_fen == 6880 - 976
    with db.write() as s:
        left = s.get(SalesOrder, oid).paid_fen - s.get(SalesOrder, oid).refunded_fen
        refunds.refund(s, oid, {"amount_fen": left, "restock": False, "external_id": "RF-9"}, w.a)
    with db.write() as s:  # the platform retries its refund: the same refund, nothing more
        refunds.refund(s, oid, {"amount_fen": 1, "external_id": "RF-9"}, w.a)
    with db.read() as s:
        order = s.get(SalesOrder, oid)
        assert (order.status, order.refunded_fen) == ("refunded", 6880)
        c = s.get(Customer, w.mine)
        assert (c.order_count, c.total_spent_fen) == (0, 0)
        assert ledger_matches_stock(s, w.sku)
    assert _level(db, w.sku2) == (4, 0)  # not restocked
    with pytest.raises(CommerceError), db.write() as s:
        refunds.refund(s, oid, {"amount_fen": 1}, w.a)


def test_pending_order_cannot_be_refunded(db, w):
    oid = _create(db, w.a, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 1}]})
    with pytest.raises(CommerceError) as caught, db.write() as s:
        refunds.refund(s, oid, {"amount_fen": 1}, w.a)
    assert "待支付" in caught.value.message


def test_expired_holds_are_cancelled_and_released(db, w, clock):
    with db.write() as s:
        oid = service.create_order(s, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 5}]}, w.a,
                                   reserve_minutes=30, now=clock.now()).order.id
        paid = service.create_order(s, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 1}]}, w.a,
                                    reserve_minutes=30, now=clock.now()).order.id
    with db.write() as s:
        flow.transition(s, paid, "pay", w.a)
    clock.advance(minutes=29)
    with db.read() as s:
        assert flow.expired_order_ids(s, clock.now()) == []
    clock.advance(minutes=2)
    with db.read() as s:
        due = flow.expired_order_ids(s, clock.now())
    assert due == [oid]
    with db.write() as s:
        assert flow.expire_one(s, oid, clock.now())
    with db.write() as s:
        assert not flow.expire_one(s, oid, clock.now())
    with db.read() as s:
        assert s.get(SalesOrder, oid).status == "cancelled"
        t = s.exec(select(OrderTransition).where(OrderTransition.order_id == oid, OrderTransition.to_status == "cancelled")).one()
        assert t.operator_id is None and "超时未支付" in t.reason
    assert _level(db, w.sku) == (19, 0)


def test_system_viewer_sees_every_order(db, w):
    oid = _create(db, w.b, {"customer_id": w.theirs, "lines": [{"sku_id": w.sku, "quantity": 1}]})
    with db.read() as s:
        assert service.get_order(s, oid, SYSTEM).id == oid
        rows, total = service.list_orders(s, w.b, service.OrderFilter(status="pending", min_fen=900, max_fen=1000))
        assert total == 1 and rows[0].id == oid
        assert service.list_orders(s, w.b, service.OrderFilter(status="paid"))[1] == 0
        assert service.list_orders(s, w.b, service.OrderFilter(q="李四"))[1] == 1


def test_the_expiry_sweep_is_a_cron_job_every_minute(services, clock):
    from types import SimpleNamespace

    from engine.crm_wiring import all_cron_jobs

    w = make_world(services.db)
    assert services.settings.order_reserve_minutes == 30
    with services.db.write() as s:
        oid = service.create_order(s, {"customer_id": w.mine, "lines": [{"sku_id": w.sku, "quantity": 2}]}, w.a,
                                   reserve_minutes=services.settings.order_reserve_minutes, now=clock.now()).order.id
    job = {j.key: j for j in all_cron_jobs(services.settings)}["order_expiry"]
    assert job.cron == {"minute": "*"}
    runtime = SimpleNamespace(services=services)
    assert job.run(runtime) == "超时未支付订单 0 个，已取消 0 个"
    clock.advance(minutes=31)
    assert job.run(runtime) == "超时未支付订单 1 个，已取消 1 个"
    with services.db.read() as s:
        assert s.get(SalesOrder, oid).status == "cancelled"
    assert _level(services.db, w.sku) == (20, 0)
