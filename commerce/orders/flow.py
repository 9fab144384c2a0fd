"""订单状态流转: 待支付 → 已支付 → 已发货 → 已完成; 待支付 / 已支付 → 已取消; refunds (refunds.py)
lead to 已退款 once everything paid was returned. Any other jump is refused with a message
naming both states. Every move is an OrderTransition (who, why) and an order.* event.

Stock follows the order: payment consumes the held units (出库), cancelling a pending order or
its hold expiring releases them (释放), cancelling a paid order refunds it in full and puts the
units back (入库). The order row is locked for the move (PostgreSQL), so two clicks on 支付 pay once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Session, col, select

from commerce.errors import CommerceError
from commerce.order_events import emit_order
from commerce.orders.customer_stats import refresh_customer
from commerce.orders.models import ORDER_STATES, OrderTransition, SalesOrder
from commerce.orders.service import get_order
from commerce.stock import ledger
from commerce.stock.models import StockReservation
from config.clock import as_utc, utcnow
from crm import scope

ALLOWED = {"pending": ("paid", "cancelled"), "paid": ("shipped", "cancelled"), "shipped": ("completed",)}
ACTIONS = {"pay": "paid", "ship": "shipped", "complete": "completed", "cancel": "cancelled"}
ACTION_LABELS = {"pay": "确认支付", "ship": "发货", "complete": "完成", "cancel": "取消订单"}
PERMISSION = {"pay": "orders.manage", "ship": "orders.manage", "complete": "orders.manage", "cancel": "orders.manage"}
EXPIRED_REASON = "超时未支付，自动取消"


def record(session: Session, order: SalesOrder, from_status: str, to_status: str, operator_id: Optional[int],
           reason: str = "", now: Optional[datetime] = None) -> None:
    session.add(OrderTransition(order_id=order.id, from_status=from_status, to_status=to_status,
                                operator_id=operator_id, reason=(reason or "")[:300], created_at=now or utcnow()))


def check_move(order: SalesOrder, to_status: str) -> None:
    if to_status not in ALLOWED.get(order.status, ()):
        message = (f"订单状态不能从「{ORDER_STATES.get(order.status, order.status)}」"
                   f"变为「{ORDER_STATES.get(to_status, to_status)}」")
        raise CommerceError(message, {"status": message})


def _held(session: Session, order_id: int) -> list[StockReservation]:
    return list(session.exec(select(StockReservation).where(StockReservation.order_id == order_id,
                                                            StockReservation.status == "held")
                             .order_by(StockReservation.id)).all())


def _pay(session: Session, order: SalesOrder, now: datetime) -> None:
    for hold in _held(session, order.id):
        ledger.consume(session, hold.sku_id, hold.quantity, order_id=order.id)
        hold.status = "consumed"
        session.add(hold)
    order.paid_fen, order.paid_at, order.reserve_expires_at = order.total_fen, now, None


def _release(session: Session, order: SalesOrder, operator_id: Optional[int], reason: str) -> None:
    for hold in _held(session, order.id):
        ledger.release(session, hold.sku_id, hold.quantity, order_id=order.id, operator_id=operator_id,
                       reason=reason or "取消订单释放预占")
        hold.status = "released"
        session.add(hold)
    order.reserve_expires_at = None


def transition(session: Session, order_id, action: str, viewer: scope.Viewer, *, reason: str = "",
               now: Optional[datetime] = None, tz: Optional[str] = None) -> SalesOrder:
    """pay / ship / complete / cancel one order the viewer may act on."""
    if action not in ACTIONS:
        raise CommerceError("未知的订单操作", {"action": "操作应为 pay / ship / complete / cancel"})
    reason = str(reason or "").strip()[:300]
    now = now or utcnow()
    order = get_order(session, order_id, viewer, for_update=True)
    to_status = ACTIONS[action]
    check_move(order, to_status)
    before = order.status
    if action == "pay":
        _pay(session, order, now)
    elif action == "ship":
        order.shipped_at = now
    elif action == "complete":
        order.completed_at = now
    elif before == "pending":
        _release(session, order, viewer.user_id, reason)
    else:  # a paid order cancelled: everything paid goes back, and the units to stock
        if not viewer.has("orders.refund"):
            raise CommerceError("取消已支付订单会全额退款，需要「退款」权限", {"status": "取消已支付订单需要「退款」权限"})
        from commerce.orders.refunds import refund_everything
        refund_everything(session, order, viewer, reason=reason or "取消已支付订单，全额退款", now=now, tz=tz)
    if action == "cancel":
        order.cancelled_at = now
    order.status, order.updated_at = to_status, now
    session.add(order)
    record(session, order, before, to_status, viewer.user_id, reason or ACTION_LABELS[action], now)
    if action in ("pay", "cancel"):
        refresh_customer(session, order.customer_id)
    emit_order(session, order, to_status, tz=tz, now=now)
    return order


def expired_order_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    return list(session.exec(select(SalesOrder.id).where(SalesOrder.status == "pending",
                                                         col(SalesOrder.reserve_expires_at).is_not(None),
                                                         SalesOrder.reserve_expires_at <= now)
                             .order_by(SalesOrder.reserve_expires_at).limit(limit)).all())


def expire_one(session: Session, order_id: int, now: datetime, tz: Optional[str] = None) -> bool:
    """Cancels one unpaid order whose hold has run out; False when it was paid or cancelled meanwhile."""
    order = get_order(session, order_id, scope.SYSTEM, for_update=True)
    if order.status != "pending" or order.reserve_expires_at is None or as_utc(order.reserve_expires_at) > now:
        return False
    transition(session, order_id, "cancel", scope.SYSTEM, reason=EXPIRED_REASON, now=now, tz=tz)
    return True
