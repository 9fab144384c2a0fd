"""Browser story: 代客下单 from the customer's page → 确认支付 → 发货 → 完成 → a partial refund, and the
customer's 订单 tab shows the order and the lifetime value (headless Chromium, no CSP violations)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from commerce.orders.models import OrderLine, SalesOrder
from crm.customers.models import Customer
from tests.commerce.order_world import make_sku

SHOTS = Path("/tmp/ckb_shots")


@pytest.mark.browser
def test_order_for_a_customer_through_the_flow_and_a_partial_refund(page, browser_login, app_db, admin_user):
    with app_db.write() as s:
        customer = Customer(name="张三", mobile="13800138000", owner_id=admin_user.id)
        s.add(customer)
        s.flush()
        cid = customer.id
        sku = make_sku(s, "TEA-RED-500", 4500, 10, "SPU-TEA", "红茶礼盒")
    browser_login()
    page.goto(f"/customers/{cid}")
    page.click("[data-crm-tab=orders]")
    page.click("text=代客下单")
    page.wait_for_url("**/orders/new?customer_id=*")
    assert page.locator("#f-customer_id").input_value() == str(cid)
    page.select_option("#f-sku_0", str(sku))
    page.fill("#f-qty_0", "2")
    page.fill("#f-discount", "5")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "order_new.png"), full_page=True)
    page.click("button:has-text('提交订单')")
    page.wait_for_selector("[data-testid=order-status]:has-text('待支付')")
    assert "¥85.00" in page.inner_text("[data-testid=order-summary]")
    for label, status in (("确认支付", "已支付"), ("发货", "已发货"), ("完成", "已完成")):
        page.click(f".page-actions button:has-text('{label}')")
        page.wait_for_selector(f"[data-testid=order-status]:has-text('{status}')")
    with app_db.read() as s:
        order = s.exec(select(SalesOrder)).one()
        line_id = s.exec(select(OrderLine.id)).one()
    page.fill(f"#qty-{line_id}", "1")
    page.fill("#f-reason", "一盒破损")
    page.click("button:has-text('确认退款')")
    page.click("[data-confirm-ok]")
    page.wait_for_selector("text=已退款 ¥42.50")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "order_detail.png"), full_page=True)
    assert "部分退款" in page.inner_text("body")
    page.goto(f"/customers/{cid}")
    page.click("[data-crm-tab=orders]")
    section = page.locator("[data-testid=customer-orders]")
    section.wait_for()
    text = section.inner_text()
    assert order.order_no in text and "¥42.50" in text and "累计消费" in text
    page.screenshot(path=str(SHOTS / "customer_orders.png"), full_page=True)
    page.goto("/orders?status=completed")
    assert page.locator("[data-testid=order-row]").count() == 1
    page.screenshot(path=str(SHOTS / "order_list.png"), full_page=True)
