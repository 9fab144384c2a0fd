"""首购时间 / 最近购买 / 购买次数 / 累计消费 on the customer, recomputed from the customer's orders
whenever one is paid, refunded or cancelled (never `+=`, so a retry or a race cannot drift them).

Counted: orders that were paid and are not cancelled or fully refunded; 累计消费 is what was paid
minus what was refunded. The customer row is locked first (PostgreSQL), so two orders of one
customer paid at once both end up counted.
"""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, col, select

from commerce.orders.models import SalesOrder
from crm.customers.models import Customer

COUNTED = ("paid", "shipped", "completed")


def refresh_customer(session: Session, customer_id: int) -> None:
    customer = session.exec(select(Customer).where(Customer.id == customer_id).with_for_update()).first()
    if customer is None:
        return
    session.flush()
    count, first, last = session.exec(
        select(func.count(), func.min(SalesOrder.paid_at), func.max(SalesOrder.paid_at))
        .where(SalesOrder.customer_id == customer_id, col(SalesOrder.status).in_(COUNTED))).one()
    spent = session.exec(select(func.coalesce(func.sum(SalesOrder.paid_fen - SalesOrder.refunded_fen), 0))
                         .where(SalesOrder.customer_id == customer_id, col(SalesOrder.paid_at).is_not(None))).one()
    customer.order_count, customer.first_order_at, customer.last_order_at = count, first, last
    customer.total_spent_fen = int(spent)
    session.add(customer)
