"""订单管理 console: 代客下单 (errors by the field, nothing written), the list's filters, the
order page's flow buttons and refunds, the customer page's 订单 section, and a 业务员's scope."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from commerce.catalog.models import ProductSku
from commerce.orders.models import OrderLine, SalesOrder
from crm.customers.models import Customer
from crm.people import service as people
from tests.commerce.order_world import make_sku
from tests.web.conftest import ADMIN_PASSWORD


@pytest.fixture
def shop(client, admin_user, login, app_db):
    login(client)
    sales = people.create_user(app_db, "sales1", ADMIN_PASSWORD, roles=["sales"], display_name="小销")
    with app_db.write() as s:
        mine, other = Customer(name="张三", owner_id=sales.id), Customer(name="王五")
        s.add(mine)
        s.add(other)
        s.flush()
        return {"mine": mine.id, "other": other.id, "sales": sales.id, "sku": make_sku(s, "TEA-1", 990, 10),
                "sku2": make_sku(s, "TEA-2", 2500, 1)}


def _token(client, path="/orders"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def _stock(db, sku_id):
    with db.read() as s:
        sku = s.get(ProductSku, sku_id)
        return sku.on_hand, sku.reserved


def _place(client, **form):
    return client.post("/orders/new", data={"csrf_token": _token(client, "/orders/new"), **form})


@pytest.mark.parametrize("path", ["/orders", "/orders/new", "/orders?status=paid&source=console&min=1&max=99.5&start=2026-01-01",
                                  "/orders?min=abc"])
def test_pages_render(client, shop, path):
    resp = client.get(path)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]


def test_place_pay_ship_complete_and_refund(client, shop, app_db):
    resp = _place(client, customer_id=shop["mine"], sku_0=shop["sku"], qty_0="3", sku_1=shop["sku2"], qty_1="1",
                  discount_1="5", discount="0.5", remark="送到前台")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    with app_db.read() as s:
        order = s.exec(select(SalesOrder)).one()
    assert (order.total_fen, order.credited_user_id, order.source) == (2970 + 2000 - 50, shop["sales"], "console")
    assert _stock(app_db, shop["sku"]) == (10, 3)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "¥49.20" in page and "确认支付" in page and "送到前台" in page
    token = _token(client)
    for action in ("pay", "ship", "complete"):
        assert client.post(f"/orders/{order.id}/{action}", data={"csrf_token": token}).status_code == 302
    assert _stock(app_db, shop["sku"]) == (7, 0)
    page = client.get(f"/orders/{order.id}").get_data(as_text=True)
    assert "已完成" in page and "已发货 → 已完成" in page
    with app_db.read() as s:
        line_id = s.exec(select(OrderLine.id).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).first()
    resp = client.post(f"/orders/{order.id}/refund", data={"csrf_token": token, f"qty_{line_id}": "1", "restock": "1",
                                                           "reason": "破损"}, follow_redirects=True)
    text = resp.get_data(as_text=True)
    assert "已退款 ¥9.80" in text and "部分退款" in text  # a third of (29.70 less its 0.29 share of the discount)
    assert _stock(app_db, shop["sku"]) == (8, 0)
    resp = client.post(f"/orders/{order.id}/refund", data={"csrf_token": token, "amount": "9999"}, follow_redirects=True)
    assert "最多可退" in resp.get_data(as_text=True)
    detail = client.get(f"/customers/{shop['mine']}").get_data(as_text=True)
    assert order.order_no in detail and "累计消费" in detail and "¥39.40" in detail


def test_bad_form_input_is_shown_by_the_field_and_writes_nothing(client, shop, app_db):
    cases = [({"customer_id": shop["mine"], "sku_2": shop["sku"], "qty_2": "1.5"}, "数量必须是正整数"),
             ({"customer_id": shop["mine"], "sku_0": shop["sku"], "qty_0": "-2"}, "数量应在 1 到"),
             ({"customer_id": shop["mine"], "sku_0": shop["sku"], "price_0": "9.999"}, "最多两位小数"),
             ({"customer_id": shop["mine"]}, "请至少选择一个商品"),
             ({"customer_id": "", "sku_0": shop["sku"]}, "请选择客户"),
             ({"customer_id": shop["mine"], "sku_0": shop["sku2"], "qty_0": "2"}, "库存不足：TEA-2")]
    for form, message in cases:
        resp = _place(client, **{k: str(v) for k, v in form.items()})
        assert resp.status_code in (400, 409) and message in resp.get_data(as_text=True), (form, resp.status_code)
    with app_db.read() as s:
        assert s.exec(select(SalesOrder)).first() is None
    assert _stock(app_db, shop["sku"]) == (10, 0)


def test_forbidden_jump_is_refused_with_a_message(client, shop, app_db):
    assert _place(client, customer_id=shop["mine"], sku_0=shop["sku"], qty_0="1").status_code == 302
    with app_db.read() as s:
        oid = s.exec(select(SalesOrder.id)).one()
    resp = client.post(f"/orders/{oid}/complete", data={"csrf_token": _token(client)}, follow_redirects=True)
    assert "订单状态不能从「待支付」变为「已完成」" in resp.get_data(as_text=True)


def test_a_salesperson_sees_only_their_customers_orders(app, shop, app_db, login):
    admin = app.test_client()
    login(admin)
    for cid in (shop["mine"], shop["other"]):
        assert _place(admin, customer_id=cid, sku_0=shop["sku"], qty_0="1").status_code == 302
    with app_db.read() as s:
        ids = {o.customer_id: o.id for o in s.exec(select(SalesOrder))}
    sales = app.test_client()
    login(sales, "sales1", ADMIN_PASSWORD)
    listing = sales.get("/orders").get_data(as_text=True)
    assert listing.count('data-testid="order-row"') == 1
    assert sales.get(f"/orders/{ids[shop['other']]}").status_code == 404
    assert sales.post(f"/orders/{ids[shop['other']]}/pay", data={"csrf_token": _token(sales)}).status_code == 404
    assert sales.get(f"/orders/{ids[shop['mine']]}").status_code == 200
    form = sales.get("/orders/new").get_data(as_text=True)
    assert "张三" in form and "王五" not in form
    resp = _place(sales, customer_id=shop["other"], sku_0=shop["sku"], qty_0="1")
    assert resp.status_code == 400 and "不存在或无权查看" in resp.get_data(as_text=True)
