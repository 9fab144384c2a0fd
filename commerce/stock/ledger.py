"""The only code that changes a SKU's stock. Each change is one conditional UPDATE that keeps
0 <= reserved <= on_hand (so stock never goes negative, whatever runs concurrently: on SQLite
writers queue on the write lock, on PostgreSQL the row lock serialises the UPDATEs and the WHERE
is re-checked on the new row version) plus one StockMovement row with the values after it, in the
caller's transaction. The ledger therefore always sums to what is on hand.

Kinds (MOVEMENT_KINDS): 入库 in (on_hand +q), 出库 out (on_hand -q; for a paid order also
reserved -q), 预占 reserve (reserved +q), 释放 release (reserved -q), 调整 adjust (on_hand ±q).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sqlalchemy import update
from sqlmodel import Session

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.errors import CommerceError, InsufficientStock
from commerce.events import emit_stock_low
from commerce.stock.models import MOVEMENT_KINDS, StockMovement
from config.clock import utcnow

MAX_QUANTITY = 1_000_000  # per movement; more is a typo


@dataclass(frozen=True)
class StockLevel:
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def check_quantity(value, field: str = "quantity") -> int:
    """A positive whole number of units; "1.5", 0, -3, True and "abc" are refused, naming the field."""
    if isinstance(value, bool) or isinstance(value, float) and not value.is_integer():
        raise CommerceError("数量必须是正整数", {field: "数量必须是正整数"})
    try:
        quantity = int(str(value).strip()) if not isinstance(value, int) else value
    except (TypeError, ValueError):
        raise CommerceError("数量必须是正整数", {field: "数量必须是正整数"})
    if not 0 < quantity <= MAX_QUANTITY:
        raise CommerceError("数量必须是正整数", {field: f"数量应在 1 到 {MAX_QUANTITY:,} 之间"})
    return quantity


def move(session: Session, sku_id: int, kind: str, *, on_hand_delta: int = 0, reserved_delta: int = 0,
         order_id: Optional[int] = None, operator_id: Optional[int] = None, reason: str = "") -> StockLevel:
    """Applies one movement or raises InsufficientStock (nothing changed). Returns the level after."""
    if kind not in MOVEMENT_KINDS:
        raise ValueError(f"unknown stock movement kind {kind!r}")
    new_on_hand = ProductSku.on_hand + on_hand_delta
    new_reserved = ProductSku.reserved + reserved_delta
    row = session.execute(
        update(ProductSku)
        .where(ProductSku.id == sku_id, new_reserved >= 0, new_on_hand >= new_reserved)
        .values(on_hand=new_on_hand, reserved=new_reserved, updated_at=utcnow())
        .returning(ProductSku.on_hand, ProductSku.reserved, ProductSku.low_stock_threshold)
    ).first()
    if row is None:
        current = session.get(ProductSku, sku_id, populate_existing=True)
        if current is None:
            raise CommerceError("SKU 不存在", {"sku_id": f"SKU {sku_id} 不存在"})
        available = current.on_hand - current.reserved
        raise InsufficientStock(f"库存不足：{current.code} 可售 {available} 件", sku_id, available)
    level = StockLevel(on_hand=row[0], reserved=row[1])
    movement = StockMovement(sku_id=sku_id, kind=kind, on_hand_delta=on_hand_delta, reserved_delta=reserved_delta,
                             on_hand_after=level.on_hand, reserved_after=level.reserved, order_id=order_id,
                             operator_id=operator_id, reason=(reason or "")[:300])
    session.add(movement)
    threshold = row[2] or 0
    before = level.available - (on_hand_delta - reserved_delta)
    if threshold > 0 and level.available <= threshold < before:
        _alert_low(session, sku_id, movement, level.available, threshold)
    return level


def _alert_low(session: Session, sku_id: int, movement: StockMovement, available: int, threshold: int) -> None:
    """库存预警: this movement took what can be sold from above the threshold to it or below."""
    session.flush()  # the movement's id names the crossing
    sku = session.get(ProductSku, sku_id)
    spu = session.get(ProductSpu, sku.spu_id)
    emit_stock_low(session, sku_id=sku_id, sku_code=sku.code, spu_id=sku.spu_id,
                   product_name=spu.name if spu else "", available=available, threshold=threshold,
                   movement_id=movement.id)


def receive(session: Session, sku_id: int, quantity, *, operator_id=None, reason: str = "入库",
            order_id=None) -> StockLevel:
    """入库: units arrive (purchase, a refund's returned goods)."""
    return move(session, sku_id, "in", on_hand_delta=check_quantity(quantity), order_id=order_id,
                operator_id=operator_id, reason=reason)


def issue(session: Session, sku_id: int, quantity, *, operator_id=None, reason: str = "出库") -> StockLevel:
    """出库 without an order (samples, damage): only unreserved units can leave."""
    return move(session, sku_id, "out", on_hand_delta=-check_quantity(quantity), operator_id=operator_id, reason=reason)


def adjust_to(session: Session, sku_id: int, counted, *, operator_id=None, reason: str = "盘点调整") -> StockLevel:
    """调整: sets on_hand to a counted figure (盘点); refused below what unpaid orders hold."""
    if isinstance(counted, bool) or not isinstance(counted, int) and not str(counted).strip().isdigit():
        raise CommerceError("库存必须是不小于 0 的整数", {"on_hand": "库存必须是不小于 0 的整数"})
    counted = int(counted)
    current = session.get(ProductSku, sku_id, populate_existing=True)
    if current is None:
        raise CommerceError("SKU 不存在", {"sku_id": f"SKU {sku_id} 不存在"})
    delta = counted - current.on_hand
    if delta == 0:
        return StockLevel(current.on_hand, current.reserved)
    return move(session, sku_id, "adjust", on_hand_delta=delta, operator_id=operator_id, reason=reason)


def reserve(session: Session, sku_id: int, quantity: int, *, order_id: int, reason: str = "下单预占") -> StockLevel:
    """预占 for an unpaid order: refused (InsufficientStock) when fewer units are available."""
    return move(session, sku_id, "reserve", reserved_delta=check_quantity(quantity), order_id=order_id, reason=reason)


def release(session: Session, sku_id: int, quantity: int, *, order_id: int, operator_id=None,
            reason: str = "释放预占") -> StockLevel:
    """释放: an unpaid order was cancelled or its hold expired."""
    return move(session, sku_id, "release", reserved_delta=-check_quantity(quantity), order_id=order_id,
                operator_id=operator_id, reason=reason)


def consume(session: Session, sku_id: int, quantity: int, *, order_id: int, reason: str = "支付出库") -> StockLevel:
    """出库 of a paid order: its reserved units leave the warehouse."""
    q = check_quantity(quantity)
    return move(session, sku_id, "out", on_hand_delta=-q, reserved_delta=-q, order_id=order_id, reason=reason)


def level(session: Session, sku_id: int) -> StockLevel:
    sku = session.get(ProductSku, sku_id, populate_existing=True)
    if sku is None:
        raise CommerceError("SKU 不存在", {"sku_id": f"SKU {sku_id} 不存在"})
    return StockLevel(sku.on_hand, sku.reserved)
