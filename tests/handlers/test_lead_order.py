"""线索·生成订单: a 付款码 payment and a platform order (订单同步) each become ONE paid order of the
identified customer, credited to the owner, even when the platform resends it."""
from __future__ import annotations

from sqlmodel import func, select

from commerce.catalog.models import ProductSku
from commerce.orders.models import OrderLine, SalesOrder
from crm.customers.models import Customer
from crm.customers.service import create_customer
from crm.leads import payments
from crm.leads.intake import Submission, submit
from crm.leads.models import Lead, LeadLog
from events.models import EventRecord
from rules.templates.lead_pipeline import pipeline_spec
from tests.commerce.order_world import ledger_matches_stock, make_sku
from tests.crm.leads.test_payments import make_scene, rt  # noqa: F401 - the scene helper and runtime fixture


def _orders(db) -> list[SalesOrder]:
    with db.read() as s:
        return list(s.exec(select(SalesOrder).order_by(SalesOrder.id)))


def test_only_sale_scenes_get_the_order_step():
    for scene_type in ("PAYMENT_CODE", "ORDER_SYNC"):
        assert "lead.order" in str(pipeline_spec("x", "lead.x", scene_type))
    assert "lead.order" not in str(pipeline_spec("x", "lead.x", "WEB_FORM"))
    assert pipeline_spec("x", "lead.x", "WEB_FORM") == pipeline_spec("x", "lead.x")


def test_a_payment_becomes_one_paid_order_of_the_customer(rt):
    db = rt.services.db
    with db.write() as s:
        customer = create_customer(s, {"name": "张三", "mobile": "13800138000"})
        customer.owner_id = 7
        customer_id = customer.id
        sku = make_sku(s, "TRIAL-1", 990, 3)
    scene = make_scene(rt, name="体验课付款码", key="paycode", scene_type="PAYMENT_CODE")
    with db.write() as s:
        code = payments.create_code(s, {"scene_id": scene, "title": "9.9 元体验课", "provider": "wechat_pay",
                                        "amount": "9.9", "params": "sku=TRIAL-1"})
        token = code.token
    out = payments.record_payment(db, provider="wechat_pay", token=token, trade_no="4200001234", amount_yuan="9.90",
                                  mobile="13800138000")
    rt.tick()
    again = payments.record_payment(db, provider="wechat_pay", token=token, trade_no="4200001234", amount_yuan="9.90",
                                    mobile="13800138000")
    rt.tick()
    assert again.duplicate
    [order] = _orders(db)
    assert (order.customer_id, order.source, order.external_id, order.status) == (customer_id, "payment_code", "4200001234", "paid")
    assert (order.total_fen, order.paid_fen, order.lead_id, order.credited_user_id) == (990, 990, out.lead_id, 7)
    with db.read() as s:
        line = s.exec(select(OrderLine)).one()
        assert (line.sku_id, line.name) == (sku, "体验课")
        assert (s.get(ProductSku, sku).on_hand, s.get(ProductSku, sku).reserved) == (2, 0)
        assert ledger_matches_stock(s, sku)
        c = s.get(Customer, customer_id)
        assert (c.order_count, c.total_spent_fen) == (1, 990)
        assert "生成订单" in " ".join(r.message for r in s.exec(select(LeadLog).where(LeadLog.lead_id == out.lead_id)))
        codes = [r.event_code for r in s.exec(select(EventRecord).where(EventRecord.source == "commerce"))]
    assert codes == ["order.created", "order.paid"]


def test_a_platform_order_pushed_twice_is_one_order(rt):
    db = rt.services.db
    with db.write() as s:
        make_sku(s, "TEA-RED", 4500, 10, "SPU-TEA", "红茶")
    scene = make_scene(rt, name="商城订单", key="shop", scene_type="ORDER_SYNC")
    item = {"order_no": "JD-778899", "buyer_name": "李四", "buyer_phone": "13900139000", "total_amount": "95.00",
            "items": [{"title": "红茶 500g", "sku": "TEA-RED", "quantity": 2, "price": "45.00"},
                      {"title": "茶杯", "sku": "CUP-X", "quantity": 1, "price": 10}]}
    for _ in range(2):  # the platform retries: the same order number
        [result] = submit(db, scene, [Submission(raw=item, external_id="JD-778899", source="pull",
                                                 meta={"pull_kind": "orders"})])
        rt.tick()
    [order] = _orders(db)
    with db.read() as s:
        lead = s.get(Lead, result.lead_id)
        lines = s.exec(select(OrderLine).order_by(OrderLine.id)).all()
        assert s.exec(select(func.count()).select_from(Lead)).one() == 1
    assert (order.customer_id, order.source, order.external_id, order.status) == (lead.customer_id, "order_pull", "JD-778899", "paid")
    assert (order.goods_fen, order.discount_fen, order.total_fen) == (10000, 500, 9500)
    assert [(l.sku_code, l.name, l.quantity, l.sku_id is not None) for l in lines] == [
        ("TEA-RED", "红茶", 2, True), ("CUP-X", "茶杯", 1, False)]


def test_a_bad_platform_price_fails_the_step_and_makes_no_order(rt):
    db = rt.services.db
    scene = make_scene(rt, name="商城订单", key="shop2", scene_type="ORDER_SYNC")
    item = {"order_no": "JD-1", "buyer_phone": "13900139001", "items": [{"title": "x", "quantity": 1, "price": "abc"}]}
    [result] = submit(db, scene, [Submission(raw=item, external_id="JD-1", source="pull", meta={"pull_kind": "orders"})])
    rt.tick()
    assert _orders(db) == []
    with db.read() as s:
        assert "商品单价" in s.get(Lead, result.lead_id).error


def test_a_nested_order_with_titles_and_a_total_is_one_order_line(rt):
    """A pulled order kept as {"order": {...}} whose items carry only titles (the demo's 电商订单同步)
    becomes one order with one line for the total, not a dead letter."""
    db = rt.services.db
    scene = make_scene(rt, name="商城订单", key="shop3", scene_type="ORDER_SYNC", mapping_rules=[
        {"source": "order.buyer_name", "target": "name"},
        {"source": "order.buyer_phone", "target": "mobile", "transform": "phone"},
        {"source": "order.total_amount", "target": "value", "transform": "number"}])
    raw = {"order": {"order_no": "DEMO1", "buyer_name": "买家1", "buyer_phone": "13900139002",
                     "items": [{"title": "精华"}, {"title": "面霜"}], "total_amount": "300"}}
    [result] = submit(db, scene, [Submission(raw=raw, external_id="DEMO1", source="pull", meta={"pull_kind": "orders"})])
    rt.tick()
    [order] = _orders(db)
    with db.read() as s:
        [line] = s.exec(select(OrderLine)).all()
        assert s.get(Lead, result.lead_id).customer_id == order.customer_id
    assert (order.total_fen, order.status, line.name, line.sku_id) == (30000, "paid", "精华、面霜", None)
