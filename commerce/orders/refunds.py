"""退款: whole or partial, by line and quantity (the line's share of what was paid, order discount
spread over the lines) or by an amount no larger than what was paid and not yet refunded. The
units can go back to stock (入库). When everything paid has been refunded the order becomes
已退款; a partial refund keeps its state and is logged as a transition all the same.

A platform's refund id (external_id) makes a retried refund answer the first one.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Optional

from sqlmodel import Session, select

from commerce.errors import CommerceError
from commerce.order_events import emit_order
from commerce.orders.customer_stats import refresh_customer
from commerce.orders.flow import record
from commerce.orders.models import ORDER_STATES, OrderLine, OrderRefund, SalesOrder
from commerce.orders.money import check_fen, fen_text
from commerce.orders.service import get_order, lines_of
from commerce.stock import ledger
from commerce.stock.ledger import check_quantity
from config.clock import utcnow
from crm import scope

REFUNDABLE = ("paid", "shipped", "completed")


def net_shares(order: SalesOrder, lines: list[OrderLine]) -> dict[int, int]:
    """What each line was really paid: its amount less its share of the order discount (the last
    line takes the rounding remainder, so the shares sum to the order's total)."""
    shares, left = {}, order.discount_fen
    for i, line in enumerate(lines):
        cut = left if i == len(lines) - 1 else (order.discount_fen * line.amount_fen // order.goods_fen
                                                 if order.goods_fen else 0)
        shares[line.id], left = line.amount_fen - cut, left - cut
    return shares


def _line_items(data_lines, order: SalesOrder, lines: list[OrderLine]) -> list[tuple[OrderLine, int, int]]:
    """[(line, quantity, amount_fen)] from [{"line_id", "quantity", "amount_fen"?}, …], every field checked."""
    if not isinstance(data_lines, list) or not data_lines:
        raise CommerceError("请选择要退的商品或填写退款金额", {"lines": "请选择要退的商品或填写退款金额"})
    by_id, shares, seen, out = {line.id: line for line in lines}, net_shares(order, lines), set(), []
    for i, item in enumerate(data_lines):
        where = f"lines[{i}]"
        if not isinstance(item, dict):
            raise CommerceError("退款行格式错误", {where: "退款行应为对象"})
        raw_id = item.get("line_id")
        line = by_id.get(int(raw_id)) if isinstance(raw_id, int) and not isinstance(raw_id, bool) or \
            isinstance(raw_id, str) and raw_id.isdigit() else None
        if line is None or line.id in seen:
            raise CommerceError("订单行不存在", {f"{where}.line_id": f"订单行 {raw_id} 不属于该订单或重复"})
        seen.add(line.id)
        quantity = check_quantity(item.get("quantity", 1), f"{where}.quantity")
        left_quantity = line.quantity - line.refunded_quantity
        if quantity > left_quantity:
            raise CommerceError("退货数量超过可退数量", {f"{where}.quantity": f"「{line.name}」最多可退 {left_quantity} 件"})
        left_fen = shares[line.id] - line.refunded_fen
        if item.get("amount_fen") not in (None, ""):
            amount = check_fen(item["amount_fen"], f"{where}.amount_fen", "退款金额")
            if amount > left_fen:
                raise CommerceError("退款金额超过该行可退金额", {f"{where}.amount_fen": f"该行最多可退 {fen_text(left_fen)}"})
        else:
            amount = left_fen if quantity == left_quantity else shares[line.id] * quantity // line.quantity
        out.append((line, quantity, max(0, min(amount, left_fen))))
    return out


def refund(session: Session, order_id, data: dict, viewer: scope.Viewer, *, now: Optional[datetime] = None,
           tz: Optional[str] = None) -> OrderRefund:
    """One refund of an order the viewer may act on; everything is checked before anything is written."""
    order = get_order(session, order_id, viewer, for_update=True)
    external_id = data.get("external_id")
    if external_id not in (None, ""):
        external_id = str(external_id).strip()[:128]
        seen = session.exec(select(OrderRefund).where(OrderRefund.order_id == order.id,
                                                      OrderRefund.external_id == external_id)).first()
        if seen is not None:
            return seen
    if order.status not in REFUNDABLE:
        message = f"「{ORDER_STATES.get(order.status, order.status)}」的订单不能退款"
        raise CommerceError(message, {"status": message})
    remaining = order.paid_fen - order.refunded_fen
    restock = data.get("restock", True)
    if not isinstance(restock, bool):
        raise CommerceError("restock 应为 true 或 false", {"restock": "是否退回库存应为是或否"})
    if data.get("lines"):
        if data.get("amount_fen") not in (None, ""):
            raise CommerceError("按商品退款时金额按行填写", {"amount_fen": "按商品退款时请在每行填写金额"})
        items = _line_items(data["lines"], order, lines_of(session, order.id))
        amount = sum(a for _, _, a in items)
    else:
        items = []
        amount = check_fen(data.get("amount_fen"), "amount_fen", "退款金额", allow_zero=False)
    if amount > remaining:
        raise CommerceError("退款金额超过可退金额", {"amount_fen": f"最多可退 {fen_text(remaining)}"})
    if amount <= 0:
        raise CommerceError("退款金额应大于 0", {"amount_fen": "退款金额应大于 0"})
    reason = str(data.get("reason") or "").strip()[:300]
    return apply_refund(session, order, items, amount, viewer, restock=restock, reason=reason,
                        external_id=external_id or None, now=now, tz=tz, set_status=True)


def apply_refund(session: Session, order: SalesOrder, items: list, amount: int, viewer: scope.Viewer, *,
                 restock: bool, reason: str, external_id: Optional[str] = None, now: Optional[datetime] = None,
                 tz: Optional[str] = None, set_status: bool = True) -> OrderRefund:
    now = now or utcnow()
    row = OrderRefund(order_id=order.id, refund_no=f"RF{secrets.token_hex(6).upper()}", external_id=external_id,
                      amount_fen=amount, restock=restock, reason=reason, operator_id=viewer.user_id, created_at=now,
                      lines=[{"line_id": line.id, "quantity": q, "amount_fen": a} for line, q, a in items])
    session.add(row)
    for line, quantity, line_amount in items:
        line.refunded_quantity += quantity
        line.refunded_fen += line_amount
        session.add(line)
        if restock and line.sku_id is not None:
            ledger.receive(session, line.sku_id, quantity, order_id=order.id, operator_id=viewer.user_id,
                           reason=f"退款退回库存 {row.refund_no}")
    order.refunded_fen += amount
    order.updated_at = now
    full = order.refunded_fen >= order.paid_fen
    before = order.status
    if set_status and full:
        order.status = "refunded"
    session.add(order)
    session.flush()
    if set_status:
        record(session, order, before, order.status, viewer.user_id,
               f"{'全额' if full else '部分'}退款 {fen_text(amount)}" + (f"：{reason}" if reason else ""), now)
        refresh_customer(session, order.customer_id)
    emit_order(session, order, "refunded", suffix=row.refund_no, tz=tz, now=now, refund_fen=amount,
               full=full)
    return row


def refund_everything(session: Session, order: SalesOrder, viewer: scope.Viewer, *, reason: str,
                      now: Optional[datetime] = None, tz: Optional[str] = None) -> Optional[OrderRefund]:
    """Cancelling a paid order: what is left of every line and of the money goes back, units to stock.
    The caller moves the status (已取消), logs and refreshes the customer."""
    remaining = order.paid_fen - order.refunded_fen
    lines = lines_of(session, order.id)
    shares, items, left = net_shares(order, lines), [], remaining
    for line in lines:
        quantity = line.quantity - line.refunded_quantity
        if quantity <= 0:
            continue
        amount = max(0, min(shares[line.id] - line.refunded_fen, left))
        left -= amount
        items.append((line, quantity, amount))
    if remaining <= 0 and not items:
        return None
    return apply_refund(session, order, items, remaining, viewer, restock=True, reason=reason, now=now, tz=tz,
                        set_status=False)
