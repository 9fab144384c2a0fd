"""Creating orders and finding them for a person.

An order is created in one transaction: the customer is checked against the creator's scope,
every line is checked (SKU on shelf, whole positive quantity, price in 分), every line's units are
reserved through the stock ledger — all or nothing: one line over stock refuses the whole order,
naming the SKU (409) — the hold's expiry is set (CKB_ORDER_RESERVE_MINUTES) and order.created is
stored. `(source, external_id)` is unique: a retry with the same external id answers the order
already made, even when two copies arrive at once (the loser's insert fails on the constraint,
inside a savepoint, and it reads the winner's order).

A 业务员 sees and acts on the orders of the customers they may see (crm.scope); orders.view_all
sees every order. Someone else's order is "not found", like an unknown id.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import or_, true
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from commerce.errors import CommerceError, InsufficientStock, OrderNotFound
from commerce.order_events import emit_order
from commerce.orders.lines import LineInput, parse_lines, priced_lines
from commerce.orders.models import ORDER_SOURCES, ORDER_STATES, OrderLine, SalesOrder
from commerce.orders.money import check_fen
from commerce.stock import ledger
from commerce.stock.models import StockReservation
from config.clock import to_local, utcnow
from crm import scope
from crm.customers.models import Customer
from crm.errors import NotFound
from crm.people.models import User

DEFAULT_RESERVE_MINUTES = 30
MAX_REMARK = 500


@dataclass
class Created:
    order: SalesOrder
    created: bool  # False: the external id was seen before and this is that order


def order_scope(viewer: scope.Viewer):
    """A clause on SalesOrder: the orders `viewer` may see and act on."""
    if viewer.has("orders.view_all"):
        return true()
    return col(SalesOrder.customer_id).in_(select(Customer.id).where(scope.customers(viewer)))


def get_order(session: Session, order_id, viewer: scope.Viewer, *, for_update: bool = False) -> SalesOrder:
    try:
        key = int(order_id)
    except (TypeError, ValueError):
        key = None
    order = None
    if key is not None and 0 < key < 2 ** 63:
        query = select(SalesOrder).where(SalesOrder.id == key, order_scope(viewer))
        if for_update:  # a transition reads the row as it is after any concurrent one committed
            query = query.with_for_update().execution_options(populate_existing=True)
        order = session.exec(query).first()
    if order is None:
        raise OrderNotFound(f"订单 {order_id} 不存在或无权查看")
    return order


def by_external(session: Session, source: str, external_id: str) -> Optional[SalesOrder]:
    return session.exec(select(SalesOrder).where(SalesOrder.source == source,
                                                 SalesOrder.external_id == external_id)).first()


def _new_order_no(now: datetime, tz: Optional[str]) -> str:
    return f"SO{to_local(now, tz).strftime('%Y%m%d')}{secrets.token_hex(5).upper()}"


def _customer(session: Session, customer_id, viewer: scope.Viewer) -> Customer:
    if customer_id in (None, ""):
        raise CommerceError("请选择客户", {"customer_id": "请选择客户"})
    if isinstance(customer_id, (bool, float)) or not str(customer_id).strip().isdigit():
        raise CommerceError("客户无效", {"customer_id": "客户 ID 应为整数"})
    try:
        return scope.load(session, viewer, Customer, customer_id)
    except NotFound:
        raise CommerceError("客户不存在或无权查看", {"customer_id": f"客户 {customer_id} 不存在或无权查看"}) from None


def _credited(session: Session, data: dict, customer: Customer) -> Optional[int]:
    """业绩归属: the customer's owner now, unless the creator names someone else."""
    chosen = data.get("credited_user_id")
    if chosen in (None, ""):
        return customer.owner_id
    try:
        user = session.get(User, int(chosen))
    except (TypeError, ValueError):
        user = None
    if user is None or not user.enabled:
        raise CommerceError("业绩归属员工不存在或已停用", {"credited_user_id": "业绩归属员工不存在或已停用"})
    return user.id


def _optional_id(data: dict, name: str, label: str) -> Optional[int]:
    value = data.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or isinstance(value, float) or not str(value).strip().isdigit():
        raise CommerceError(f"{label}无效", {name: f"{label}应为整数 ID"})
    return int(value)


def _external_id(data: dict) -> Optional[str]:
    value = data.get("external_id")
    if value in (None, ""):
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not 0 < len(str(value).strip()) <= 128:
        raise CommerceError("外部单号无效", {"external_id": "外部单号应为不超过 128 个字符的文本"})
    return str(value).strip()


def create_order(session: Session, data: dict, viewer: scope.Viewer, *, source: str = "console",
                 reserve_minutes: int = DEFAULT_RESERVE_MINUTES, tz: Optional[str] = None,
                 now: Optional[datetime] = None, lines: Optional[list[LineInput]] = None,
                 platform: bool = False) -> Created:
    """Validates everything, then writes the order, its lines and their reservations. `lines`
    (already parsed, e.g. a platform's) replaces data["lines"]; lines without a SKU reserve nothing.

    `platform`: the sale already happened elsewhere (付款码, 订单同步) and cannot be refused — a
    line whose SKU is not ours is kept by name and price, and a line of ours short of stock is kept
    without moving stock (the order's remark says so) instead of failing the whole order."""
    if source not in ORDER_SOURCES:
        raise CommerceError("订单来源无效", {"source": "订单来源无效"})
    external_id = _external_id(data)
    if external_id is not None:
        seen = by_external(session, source, external_id)
        if seen is not None:
            return Created(seen, False)
    customer = _customer(session, data.get("customer_id"), viewer)
    parsed = lines if lines is not None else parse_lines(data.get("lines"))
    priced = priced_lines(session, parsed, can_set_price=viewer.has("orders.manage"), allow_unknown=platform)
    goods = sum(line.amount_fen for line in priced)
    discount = check_fen(data.get("discount_fen") or 0, "discount_fen", "整单优惠")
    if discount > goods:
        raise CommerceError("整单优惠不能超过商品金额", {"discount_fen": "整单优惠不能超过商品金额"})
    remark = data.get("remark") or ""
    if not isinstance(remark, str) or len(remark) > MAX_REMARK:
        raise CommerceError("备注过长", {"remark": f"备注应为不超过 {MAX_REMARK} 字的文本"})
    now = now or utcnow()
    order = SalesOrder(order_no=_new_order_no(now, tz), customer_id=customer.id,
                       credited_user_id=_credited(session, data, customer), source=source, external_id=external_id,
                       channel_id=_optional_id(data, "channel_id", "渠道"), scene_id=_optional_id(data, "scene_id", "场景"),
                       lead_id=_optional_id(data, "lead_id", "线索"), status="pending", goods_fen=goods,
                       discount_fen=discount, total_fen=goods - discount, remark=remark, created_by=viewer.user_id,
                       created_at=now, updated_at=now, reserve_expires_at=now + timedelta(minutes=reserve_minutes))
    if external_id is None:  # nothing to collide with: no savepoint round trips
        session.add(order)
        session.flush()
    else:
        try:
            with session.begin_nested():
                session.add(order)
                session.flush()
        except IntegrityError:
            seen = by_external(session, source, external_id)
            if seen is None:
                raise
            return Created(seen, False)
    session.add_all([OrderLine(order_id=order.id, **line.row()) for line in priced])
    # The ledger's UPDATEs need none of the pending rows: without autoflush the lines, movements and
    # reservations are written in one batch each instead of one round trip per row (the SQLite
    # write lock is held for the whole order, so fewer statements is more orders per second).
    with session.no_autoflush:
        for line in priced:
            if line.sku_id is not None and _reserve(session, order, line, best_effort=platform):
                session.add(StockReservation(sku_id=line.sku_id, order_id=order.id, quantity=line.quantity,
                                             expires_at=order.reserve_expires_at, created_at=now))
    from commerce.orders.flow import record  # the flow module imports this one
    record(session, order, "", "pending", viewer.user_id, "创建订单", now)
    emit_order(session, order, "created", tz=tz, now=now)
    return Created(order, True)


def _reserve(session: Session, order: SalesOrder, line, *, best_effort: bool) -> bool:
    if not best_effort:
        ledger.reserve(session, line.sku_id, line.quantity, order_id=order.id)
        return True
    try:
        with session.begin_nested():
            ledger.reserve(session, line.sku_id, line.quantity, order_id=order.id, reason="平台订单预占")
        return True
    except InsufficientStock as exc:
        order.remark = (order.remark + f"；{exc.message}，未扣减库存").lstrip("；")[:MAX_REMARK]
        session.add(order)
        return False


def lines_of(session: Session, order_id: int) -> list[OrderLine]:
    return list(session.exec(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)).all())


@dataclass
class OrderFilter:
    status: Optional[str] = None
    source: Optional[str] = None
    customer_id: Optional[int] = None
    credited_user_id: Optional[int] = None
    start: Optional[datetime] = None
    end: Optional[datetime] = None
    min_fen: Optional[int] = None
    max_fen: Optional[int] = None
    q: str = ""

    def check(self) -> "OrderFilter":
        if self.status and self.status not in ORDER_STATES:
            raise CommerceError("订单状态无效", {"status": "订单状态无效"})
        if self.source and self.source not in ORDER_SOURCES:
            raise CommerceError("订单来源无效", {"source": "订单来源无效"})
        if self.min_fen is not None and self.max_fen is not None and self.min_fen > self.max_fen:
            raise CommerceError("金额范围无效", {"min_fen": "最低金额不能高于最高金额"})
        return self


def list_orders(session: Session, viewer: scope.Viewer, flt: OrderFilter, *, page: int = 1,
                size: int = 20) -> tuple[list[SalesOrder], int]:
    flt.check()
    where = [order_scope(viewer)]
    for name in ("status", "source", "customer_id", "credited_user_id"):
        value = getattr(flt, name)
        if value not in (None, ""):
            where.append(getattr(SalesOrder, name) == value)
    if flt.start is not None:
        where.append(SalesOrder.created_at >= flt.start)
    if flt.end is not None:
        where.append(SalesOrder.created_at < flt.end)
    if flt.min_fen is not None:
        where.append(SalesOrder.total_fen >= flt.min_fen)
    if flt.max_fen is not None:
        where.append(SalesOrder.total_fen <= flt.max_fen)
    if flt.q:
        names = select(Customer.id).where(col(Customer.name).contains(flt.q), scope.customers(viewer))
        where.append(or_(col(SalesOrder.order_no).contains(flt.q.upper()), col(SalesOrder.external_id) == flt.q,
                         col(SalesOrder.customer_id).in_(names)))
    total = session.exec(select(func.count()).select_from(SalesOrder).where(*where)).one()
    rows = session.exec(select(SalesOrder).where(*where).order_by(col(SalesOrder.created_at).desc(),
                                                                   col(SalesOrder.id).desc())
                        .offset((page - 1) * size).limit(size)).all()
    return list(rows), int(total)
