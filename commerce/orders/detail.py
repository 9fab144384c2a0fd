"""An order as the console and the API show it: amounts in 分 with their labels, the customer and
the credited staff by name, lines with what was refunded, every transition (who, why) and refunds.
Also a customer's orders and lifetime value for the customer page."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session, col, select

from commerce.orders.models import ORDER_SOURCES, ORDER_STATES, OrderRefund, OrderTransition, SalesOrder
from commerce.orders.service import lines_of, order_scope
from config.clock import as_utc
from crm import scope
from crm.customers.models import Customer
from crm.people.models import User


def _iso(value):
    """Times stay datetimes (aware UTC) here: the console formats them in the configured zone,
    the API writes ISO 8601 (web/api/orders.py)."""
    return as_utc(value) if value else None


def _user_names(session: Session, ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.display_name or u.username for u in session.exec(select(User).where(col(User.id).in_(ids)))}


def order_dict(order: SalesOrder, names: Optional[dict] = None, customers: Optional[dict] = None) -> dict:
    names, customers = names or {}, customers or {}
    return {"id": order.id, "order_no": order.order_no, "status": order.status,
            "status_label": ORDER_STATES.get(order.status, order.status), "source": order.source,
            "source_label": ORDER_SOURCES.get(order.source, order.source), "external_id": order.external_id,
            "customer_id": order.customer_id, "customer_name": customers.get(order.customer_id, ""),
            "credited_user_id": order.credited_user_id, "credited_user_name": names.get(order.credited_user_id, ""),
            "channel_id": order.channel_id, "scene_id": order.scene_id, "lead_id": order.lead_id,
            "goods_fen": order.goods_fen, "discount_fen": order.discount_fen, "total_fen": order.total_fen,
            "paid_fen": order.paid_fen, "refunded_fen": order.refunded_fen, "remark": order.remark,
            "created_at": _iso(order.created_at), "paid_at": _iso(order.paid_at), "shipped_at": _iso(order.shipped_at),
            "completed_at": _iso(order.completed_at), "cancelled_at": _iso(order.cancelled_at),
            "reserve_expires_at": _iso(order.reserve_expires_at)}


def orders_dicts(session: Session, orders: list[SalesOrder]) -> list[dict]:
    names = _user_names(session, [o.credited_user_id for o in orders])
    ids = {o.customer_id for o in orders}
    customers = dict(session.exec(select(Customer.id, Customer.name).where(col(Customer.id).in_(ids))).all()) if ids else {}
    return [order_dict(o, names, customers) for o in orders]


def order_detail(session: Session, order: SalesOrder) -> dict:
    transitions = list(session.exec(select(OrderTransition).where(OrderTransition.order_id == order.id)
                                    .order_by(OrderTransition.id)))
    refunds = list(session.exec(select(OrderRefund).where(OrderRefund.order_id == order.id).order_by(OrderRefund.id)))
    names = _user_names(session, [order.credited_user_id, order.created_by]
                        + [t.operator_id for t in transitions] + [r.operator_id for r in refunds])
    out = orders_dicts(session, [order])[0]
    out["created_by_name"] = names.get(order.created_by, "")
    out["lines"] = [{"id": line.id, "sku_id": line.sku_id, "spu_id": line.spu_id, "sku_code": line.sku_code,
                     "name": line.name, "specs": line.specs or {}, "quantity": line.quantity,
                     "unit_price_fen": line.unit_price_fen, "discount_fen": line.discount_fen,
                     "amount_fen": line.amount_fen, "refunded_quantity": line.refunded_quantity,
                     "refunded_fen": line.refunded_fen} for line in lines_of(session, order.id)]
    out["transitions"] = [{"from_status": t.from_status, "to_status": t.to_status,
                           "from_label": ORDER_STATES.get(t.from_status, ""), "to_label": ORDER_STATES.get(t.to_status, ""),
                           "operator_id": t.operator_id, "operator_name": names.get(t.operator_id, "系统"),
                           "reason": t.reason, "created_at": _iso(t.created_at)} for t in transitions]
    out["refunds"] = [{"id": r.id, "refund_no": r.refund_no, "external_id": r.external_id, "amount_fen": r.amount_fen,
                       "lines": r.lines, "restock": r.restock, "reason": r.reason, "operator_id": r.operator_id,
                       "operator_name": names.get(r.operator_id, "系统"), "created_at": _iso(r.created_at)}
                      for r in refunds]
    return out


def customer_orders(session: Session, customer_id: int, viewer: scope.Viewer, limit: int = 20) -> dict:
    """The customer page's 订单 section: recent orders and the derived purchase fields."""
    customer = scope.load(session, viewer, Customer, customer_id)
    orders = list(session.exec(select(SalesOrder).where(SalesOrder.customer_id == customer.id, order_scope(viewer))
                               .order_by(col(SalesOrder.created_at).desc(), col(SalesOrder.id).desc()).limit(limit)))
    return {"orders": orders_dicts(session, orders), "order_count": customer.order_count,
            "total_spent_fen": customer.total_spent_fen, "first_order_at": _iso(customer.first_order_at),
            "last_order_at": _iso(customer.last_order_at)}
