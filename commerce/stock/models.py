"""The stock ledger. Every change of a SKU's on_hand or reserved is one StockMovement written in the
same transaction, so the ledger always sums to what is on hand."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow

MOVEMENT_KINDS = {"in": "入库", "out": "出库", "reserve": "预占", "release": "释放", "adjust": "调整"}
RESERVATION_STATES = {"held": "预占中", "consumed": "已扣减", "released": "已释放"}


class StockMovement(SQLModel, table=True):
    """One change: `on_hand_delta` and `reserved_delta` (signed) with the values after it.
    出库 of a paid order is on_hand -q, reserved -q; a refund's 入库 is on_hand +q."""

    __tablename__ = "stock_movement"

    id: Optional[int] = Field(default=None, primary_key=True)
    sku_id: int = Field(index=True)
    kind: str = Field(max_length=16)  # MOVEMENT_KINDS
    on_hand_delta: int = 0
    reserved_delta: int = 0
    on_hand_after: int = 0
    reserved_after: int = 0
    order_id: Optional[int] = Field(default=None, index=True)
    operator_id: Optional[int] = None  # None: the system (expiry sweep, payment callback)
    reason: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class StockReservation(SQLModel, table=True):
    """Units held for one line of an unpaid order until `expires_at`."""

    __tablename__ = "stock_reservation"

    id: Optional[int] = Field(default=None, primary_key=True)
    sku_id: int = Field(index=True)
    order_id: int = Field(index=True)
    quantity: int
    status: str = Field(default="held", max_length=16, index=True)  # RESERVATION_STATES
    expires_at: datetime = Field(index=True)
    created_at: datetime = Field(default_factory=utcnow)
