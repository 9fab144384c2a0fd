"""The two money-like ledgers of 社群增长, shared by fission campaigns, rewards, check-in and KOC.

Points: one PointsAccount per customer holds the balance; every change is one PointsEntry with its
reason and source, written in the same transaction as a conditional UPDATE of the balance, so the
entries always sum to the balance and it never goes below zero. UNIQUE(source, source_ref, kind)
makes an award idempotent (a check-in or a stage reached twice earns once).

Commission: what a KOC or a distributor (分销) earns on referred orders; `pending` until the order's
hold period passes, then `settled`, or `reversed` on refund."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow

POINTS_KINDS = {"earn": "获得", "spend": "使用", "expire": "过期", "adjust": "调整"}
POINTS_SOURCES = {"checkin": "群打卡", "fission": "裂变活动", "processor": "策略发放", "manual": "手工调整",
                  "order": "订单", "koc": "KOC 任务", "redeem": "兑换", "expiry": "到期清零"}
COMMISSION_STATES = {"pending": "待结算", "settled": "已结算", "reversed": "已冲回"}


class PointsAccount(SQLModel, table=True):
    __tablename__ = "points_account"

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(unique=True)
    balance: int = 0
    earned_total: int = 0
    spent_total: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


class PointsEntry(SQLModel, table=True):
    __tablename__ = "points_entry"
    __table_args__ = (UniqueConstraint("source", "source_ref", "kind", name="uq_points_entry_source"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(index=True)
    kind: str = Field(max_length=16)  # POINTS_KINDS
    delta: int  # signed
    balance_after: int
    reason: str = Field(default="", max_length=300)
    source: str = Field(default="manual", max_length=32)  # POINTS_SOURCES
    source_ref: Optional[str] = Field(default=None, max_length=100)  # e.g. "checkin:12", "campaign:3:stage:2"
    expires_at: Optional[datetime] = Field(default=None, index=True)  # earn entries that lapse
    remaining: int = 0  # earn entries: points not yet spent or expired (FIFO)
    operator_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CommissionEntry(SQLModel, table=True):
    __tablename__ = "commission_entry"
    __table_args__ = (UniqueConstraint("source", "source_ref", name="uq_commission_entry_source"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    # who earns it: a customer (a KOC or a distributor) or a staff member
    beneficiary_customer_id: Optional[int] = Field(default=None, index=True)
    beneficiary_user_id: Optional[int] = Field(default=None, index=True)
    order_id: Optional[int] = Field(default=None, index=True)
    campaign_id: Optional[int] = Field(default=None, index=True)
    group_id: Optional[int] = Field(default=None, index=True)  # the KOC's group the order came through
    amount_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    status: str = Field(default="pending", max_length=16)  # COMMISSION_STATES
    reason: str = Field(default="", max_length=300)
    source: str = Field(default="fission", max_length=32)
    source_ref: str = Field(max_length=100)  # e.g. "order:12:level:1"
    settle_after: Optional[datetime] = None
    settled_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
