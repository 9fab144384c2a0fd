"""Rollup tables. DailyMetric is long-format: (day, metric, dim, dim_id) → value, so a new KPI is a
new metric key, not a schema change. `day` is the Beijing (configured zone) calendar day; dim is
one of DIMENSIONS and dim_id 0 for the company row. Amounts are in 分."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow

DIMENSIONS = {
    "company": "全公司",
    "user": "员工",
    "department": "部门",
    "account": "微信号",
    "group": "微信群",
    "channel": "渠道",
    "scene": "获客场景",
}


class DailyMetric(SQLModel, table=True):
    __tablename__ = "metric_daily"
    __table_args__ = (UniqueConstraint("day", "metric", "dim", "dim_id", name="uq_metric_daily"),
                      # reads ask for one metric and dimension over a range of days (rollup_store.series/totals)
                      Index("ix_metric_daily_metric_dim_day", "metric", "dim", "day"))

    id: Optional[int] = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    metric: str = Field(max_length=48)
    dim: str = Field(max_length=16)
    dim_id: int = 0
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    updated_at: datetime = Field(default_factory=utcnow)


TARGET_PERIODS = {"day": "每日", "week": "每周", "month": "每月"}


class MetricTarget(SQLModel, table=True):
    """目标: what a person (dim user), a team (dim department) or the company should reach per period
    for one metric (e.g. 新增好友 100 per day). 达成率 = actual / value."""

    __tablename__ = "metric_target"
    __table_args__ = (UniqueConstraint("metric", "dim", "dim_id", "period", name="uq_metric_target"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    metric: str = Field(max_length=48)
    dim: str = Field(max_length=16)  # user | department | company
    dim_id: int = 0
    period: str = Field(max_length=8)  # TARGET_PERIODS
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    set_by: Optional[int] = None
    updated_at: datetime = Field(default_factory=utcnow)
