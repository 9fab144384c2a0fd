"""Tables of 权益: coupon batches and their codes, blind-box pools, prizes and draws.

Counters that must never overrun (a batch's issued count, a prize's stock, a code's single use)
change only by conditional UPDATE … WHERE <still allowed>, so concurrent requests on several web
processes cannot overrun them; the rows written afterwards record who got what and why."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow

COUPON_KINDS = {"cash": "代金券", "discount": "折扣券", "gift": "兑换券"}
COUPON_STATES = {"issued": "未使用", "redeemed": "已核销", "void": "已作废"}
PRIZE_KINDS = {"points": "积分", "coupon": "优惠券", "physical": "实物"}
DRAW_STATES = {"awarded": "已发放", "to_ship": "待发货", "shipped": "已发货"}


class CouponBatch(SQLModel, table=True):
    __tablename__ = "coupon_batch"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(default="cash", max_length=16)  # COUPON_KINDS
    # cash: 分 off; discount: percent paid (85 = 八五折); gift: 0 (the item is in the name/description)
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    min_spend_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    description: str = Field(default="", max_length=500)
    total: int = 0  # codes that may be issued (0 = unlimited)
    issued: int = 0
    redeemed: int = 0
    valid_from: Optional[datetime] = None
    valid_until: Optional[datetime] = None
    valid_days: int = 0  # >0: each code is valid this many days from its issue (capped by valid_until)
    active: bool = True
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class Coupon(SQLModel, table=True):
    """One issued code. (source, source_ref) makes an issue idempotent."""

    __tablename__ = "coupon"
    __table_args__ = (UniqueConstraint("source", "source_ref", name="uq_coupon_source"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    batch_id: int = Field(index=True)
    code: str = Field(max_length=32, unique=True)
    customer_id: int = Field(index=True)
    status: str = Field(default="issued", max_length=16)  # COUPON_STATES
    source: str = Field(default="manual", max_length=32)
    source_ref: Optional[str] = Field(default=None, max_length=100)
    reason: str = Field(default="", max_length=300)
    valid_from: Optional[datetime] = None
    valid_until: Optional[datetime] = None
    issued_at: datetime = Field(default_factory=utcnow, index=True)
    redeemed_at: Optional[datetime] = None
    redeemed_by: Optional[int] = None  # staff user; None with redeem_channel "api" and a token user
    redeem_channel: str = Field(default="", max_length=16)  # console | api
    redeem_note: str = Field(default="", max_length=300)


class BoxPool(SQLModel, table=True):
    __tablename__ = "box_pool"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    description: str = Field(default="", max_length=500)
    active: bool = True
    draws: int = 0
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class BoxPrize(SQLModel, table=True):
    __tablename__ = "box_prize"

    id: Optional[int] = Field(default=None, primary_key=True)
    pool_id: int = Field(index=True)
    name: str = Field(max_length=100)
    kind: str = Field(default="physical", max_length=16)  # PRIZE_KINDS
    points: int = 0  # kind points
    coupon_batch_id: Optional[int] = None  # kind coupon
    weight: int = 1
    stock: int = 0  # left; a draw takes one with UPDATE … WHERE stock > 0
    drawn: int = 0


class BoxDraw(SQLModel, table=True):
    __tablename__ = "box_draw"
    __table_args__ = (UniqueConstraint("source", "source_ref", name="uq_box_draw_source"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    pool_id: int = Field(index=True)
    prize_id: int = Field(index=True)
    customer_id: int = Field(index=True)
    prize_name: str = Field(max_length=100)
    kind: str = Field(max_length=16)
    status: str = Field(default="awarded", max_length=16)  # DRAW_STATES
    source: str = Field(default="manual", max_length=32)
    source_ref: Optional[str] = Field(default=None, max_length=100)
    reason: str = Field(default="", max_length=300)
    coupon_id: Optional[int] = None
    points_entry_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
