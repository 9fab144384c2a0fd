"""订单 (成交). An order belongs to a customer and credits one staff member (the customer's owner at
the time of the deal unless overridden), remembers where it came from (source, channel, scene) and
moves through ORDER_STATES; every move is an OrderTransition. Amounts are integers in 分."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

ORDER_STATES = {
    "pending": "待支付",
    "paid": "已支付",
    "shipped": "已发货",
    "completed": "已完成",
    "cancelled": "已取消",
    "refunded": "已退款",  # fully refunded; a partial refund keeps the order's state
}
ORDER_SOURCES = {
    "console": "代客下单",
    "api": "接口",
    "payment_code": "付款码",
    "order_pull": "订单同步",
    "import": "导入",
}


def _fen(default: int = 0):
    return Field(default=default, sa_column=Column(BigInteger, nullable=False, default=default))


class SalesOrder(SQLModel, table=True):
    """One order. (source, external_id) is unique, so a platform's retry finds the same order."""

    __tablename__ = "sales_order"
    __table_args__ = (UniqueConstraint("source", "external_id", name="uq_sales_order_external"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    order_no: str = Field(max_length=32, unique=True)
    customer_id: int = Field(index=True)
    credited_user_id: Optional[int] = Field(default=None, index=True)  # 业绩归属
    source: str = Field(default="console", max_length=16)  # ORDER_SOURCES
    external_id: Optional[str] = Field(default=None, max_length=128)  # trade number / platform order id
    channel_id: Optional[int] = Field(default=None, index=True)
    scene_id: Optional[int] = Field(default=None, index=True)
    lead_id: Optional[int] = Field(default=None, index=True)
    status: str = Field(default="pending", max_length=16, index=True)  # ORDER_STATES
    goods_fen: int = _fen()  # sum of line amounts before the order discount
    discount_fen: int = _fen()  # order-level discount
    total_fen: int = _fen()  # payable: goods_fen - discount_fen
    paid_fen: int = _fen()
    refunded_fen: int = _fen()
    remark: str = Field(default="", max_length=500)
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    paid_at: Optional[datetime] = Field(default=None, index=True)
    shipped_at: Optional[datetime] = None
    completed_at: Optional[datetime] = None
    cancelled_at: Optional[datetime] = None
    reserve_expires_at: Optional[datetime] = None  # unpaid: stock is held until then
    updated_at: datetime = Field(default_factory=utcnow)


class OrderLine(SQLModel, table=True):
    """A line: the SKU with name, code and specs copied at order time (a later rename keeps history)."""

    __tablename__ = "order_line"

    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(index=True)
    sku_id: Optional[int] = Field(default=None, index=True)  # None for a platform line with no SKU of ours
    spu_id: Optional[int] = Field(default=None, index=True)
    sku_code: str = Field(default="", max_length=64)
    name: str = Field(default="", max_length=200)
    specs: dict = Field(default_factory=dict, sa_type=JSONType)
    quantity: int = 1
    unit_price_fen: int = _fen()
    discount_fen: int = _fen()  # line discount
    amount_fen: int = _fen()  # quantity * unit_price - discount
    refunded_quantity: int = 0
    refunded_fen: int = _fen()


class OrderTransition(SQLModel, table=True):
    """Every status change (and refund) of an order: who, when, why."""

    __tablename__ = "order_transition"

    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(index=True)
    from_status: str = Field(default="", max_length=16)
    to_status: str = Field(max_length=16)
    operator_id: Optional[int] = None
    reason: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)


class OrderRefund(SQLModel, table=True):
    """A refund, whole or partial. `lines` is [{"line_id", "quantity", "amount_fen"}]; `restock`
    returns the units to stock. (order_id, external_id) is unique for platform refund ids."""

    __tablename__ = "order_refund"
    __table_args__ = (UniqueConstraint("order_id", "external_id", name="uq_order_refund_external"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    order_id: int = Field(index=True)
    refund_no: str = Field(max_length=32, unique=True)
    external_id: Optional[str] = Field(default=None, max_length=128)
    amount_fen: int = _fen()
    lines: list = Field(default_factory=list, sa_type=JSONType)
    restock: bool = True
    reason: str = Field(default="", max_length=300)
    operator_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
