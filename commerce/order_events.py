"""订单事件 (order.created / paid / shipped / completed / cancelled / refunded) into the one event
ledger, in the transaction that changed the order, so a strategy (感谢短信, 评价邀请, 复购提醒) and
the data center see exactly the orders that were committed.

The event id is derived from the order and what happened to it ("order:12:paid",
"order:12:refunded:R…"), so a retried request or callback never stores the same event twice.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from commerce.events import SOURCE, ensure_definitions
from commerce.orders.models import OrderLine, SalesOrder
from config.clock import utcnow
from crm.customers.models import Customer
from crm.events_out import emit
from events.builtin import COMMERCE_EVENTS

EVENT_CODES = {e["code"].split(".", 1)[1]: e["code"] for e in COMMERCE_EVENTS if e["code"].startswith("order.")}


def order_payload(session: Session, order: SalesOrder, at: datetime, **extra) -> dict:
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id)).all()
    customer = session.get(Customer, order.customer_id)
    return {"order_id": order.id, "order_no": order.order_no, "customer_id": order.customer_id,
            "customer_name": customer.name if customer else "", "credited_user_id": order.credited_user_id,
            "source": order.source, "total_fen": order.total_fen, "paid_fen": order.paid_fen,
            "refunded_fen": order.refunded_fen, "product_names": [line.name for line in lines],
            "sku_codes": [line.sku_code for line in lines if line.sku_code], "channel_id": order.channel_id,
            "scene_id": order.scene_id, "order_count": customer.order_count if customer else 0,
            "at": at.isoformat(), **extra}


def emit_order(session: Session, order: SalesOrder, what: str, *, suffix: str = "", tz: Optional[str] = None,
               now: Optional[datetime] = None, **extra) -> None:
    """Stores order.<what> for `order` in the caller's transaction (idempotent per order, event and
    suffix). `now` is the caller's clock, so a delayed step (复购提醒 in 30 days) counts from it."""
    ensure_definitions(session)
    now = now or utcnow()
    emit(session, EVENT_CODES[what], order_payload(session, order, now, **extra), tz, source=SOURCE,
         event_id=f"order:{order.id}:{what}{':' + suffix if suffix else ''}", now=now)

