"""Strategy groups, strategies and their saved versions."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType


class StrategyGroup(SQLModel, table=True):
    __tablename__ = "strategy_group"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Strategy(SQLModel, table=True):
    __tablename__ = "strategy"

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="strategy_group.id", index=True)
    name: str = Field(max_length=200)
    event_id: int = Field(foreign_key="event_definition.id", index=True)
    enabled: bool = False  # a new strategy starts disabled, as in 晓售
    position: int = 0
    starts_at: Optional[datetime] = None  # empty: effective now
    ends_at: Optional[datetime] = None  # empty: forever
    # 晓售 rows: [{"lparen": int, "field": str, "op": str, "value": any, "rparen": int, "join": "and"|"or"}]
    conditions: list = Field(default_factory=list, sa_type=JSONType)
    # [{"processor": key, "config": {...}, "timing": {"mode": "immediate"|"delay"|"until", ...}}]
    steps: list = Field(default_factory=list, sa_type=JSONType)
    template_key: Optional[str] = Field(default=None, max_length=64)
    remark: str = Field(default="", max_length=500)
    version: int = 1
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class StrategyVersion(SQLModel, table=True):
    __tablename__ = "strategy_version"

    id: Optional[int] = Field(default=None, primary_key=True)
    strategy_id: int = Field(index=True)
    version: int
    snapshot: dict = Field(default_factory=dict, sa_type=JSONType)
    changed_by: str = Field(default="", max_length=64)
    changed_at: datetime = Field(default_factory=utcnow)
    summary: str = Field(default="", max_length=500)


class ScheduleTrigger(SQLModel, table=True):
    """A schedule (cron or one-time) that fires the `schedule.fired` event for one strategy —
    scheduled workbench features (定时提醒, 社群推送, 朋友圈同步 slots) are ordinary strategies."""

    __tablename__ = "schedule_trigger"

    id: Optional[int] = Field(default=None, primary_key=True)
    strategy_id: int = Field(index=True)
    key: str = Field(max_length=64, unique=True)
    cron: str = Field(default="", max_length=100)  # 5-field cron in the configured zone; "" = one-time
    run_at: Optional[datetime] = None  # one-time
    payload: dict = Field(default_factory=dict, sa_type=JSONType)
    enabled: bool = True
    next_fire_at: Optional[datetime] = Field(default=None, index=True)
    last_fired_at: Optional[datetime] = None
