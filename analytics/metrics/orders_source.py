"""Paid orders by when they were paid: the rows behind 成交人数, 成交金额 and 成交单数."""
from __future__ import annotations

from sqlmodel import select

from analytics.metrics.base import Fact, between
from commerce.orders.models import SalesOrder
from config.clock import as_utc


def paid_orders(session, start, end):
    stmt = (select(SalesOrder.id, SalesOrder.order_no, SalesOrder.customer_id, SalesOrder.credited_user_id,
                   SalesOrder.channel_id, SalesOrder.scene_id, SalesOrder.paid_fen, SalesOrder.paid_at)
            .where(between(SalesOrder.paid_at, start, end)))
    return list(session.exec(stmt))


def order_fact(row, person, amount, ref) -> Fact:
    oid, order_no, customer_id, user_id, channel_id, scene_id, _paid, paid_at = row
    return Fact(as_utc(paid_at), person, amount, user_id=user_id, channel_id=channel_id, scene_id=scene_id,
                ref=ref, label=order_no)
