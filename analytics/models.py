"""Rollup tables. DailyMetric is long-format: (day, metric, dim, dim_id) → value, so a new KPI is a
new metric key, not a schema change. `day` is the Beijing (configured zone) calendar day; dim is
one of DIMENSIONS and dim_id 0 for the company row. Amounts are in 分."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, UniqueConstraint
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
    __table_args__ = (UniqueConstraint("day", "metric", "dim", "dim_id", name="uq_metric_daily"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    metric: str = Field(max_length=48)
    dim: str = Field(max_length=16)
    dim_id: int = 0
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    updated_at: datetime = Field(default_factory=utcnow)
