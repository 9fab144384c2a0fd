"""The engine's ledger: strategy runs per event, step tasks, attempts, and leader locks."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

# Task statuses, with the console's words (策略任务).
TASK_STATUS_LABELS = {
    "pending": "未执行",
    "running": "执行中",
    "done": "已执行",
    "failed": "失败",  # an attempt failed; the next try is scheduled at due_at
    "cancelled": "已取消",
    "dead": "死信",  # out of attempts (or not retryable); replayable from 死信
    "skipped": "已跳过",  # "delay until" time had passed when the event arrived
}
CLAIMABLE_STATUSES = ("pending", "failed")
FINAL_STATUSES = ("done", "cancelled", "dead", "skipped")


class StrategyRun(SQLModel, table=True):
    """One strategy considered for one event: matched or not, and why."""

    __tablename__ = "strategy_run"

    id: Optional[int] = Field(default=None, primary_key=True)
    event_record_id: int = Field(index=True)
    strategy_id: int = Field(index=True)
    strategy_name: str = Field(default="", max_length=200)
    strategy_version: int = 1
    matched: bool = False
    reason: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class StrategyTask(SQLModel, table=True):
    """One step of one matched strategy for one event; the table is the truth for scheduling."""

    __tablename__ = "strategy_task"

    id: Optional[int] = Field(default=None, primary_key=True)
    event_record_id: int = Field(index=True)
    strategy_run_id: int = Field(index=True)
    strategy_id: int = Field(index=True)
    step_index: int = 0
    processor_key: str = Field(max_length=100)
    processor_name: str = Field(default="", max_length=100)
    config: dict = Field(default_factory=dict, sa_type=JSONType)
    timing: str = Field(default="immediate", max_length=16)  # immediate | delay | until
    due_at: datetime = Field(default_factory=utcnow, index=True)
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    max_attempts: int = 3
    lease_until: Optional[datetime] = None
    lease_owner: str = Field(default="", max_length=64)
    # "<event record>:<strategy>:<step>" — a step's effect happens at most once per event.
    idempotency_key: str = Field(max_length=128, unique=True)
    rendered: dict = Field(default_factory=dict, sa_type=JSONType)
    result: dict = Field(default_factory=dict, sa_type=JSONType)
    last_error: str = Field(default="", max_length=2000)
    note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None


class StepAttempt(SQLModel, table=True):
    __tablename__ = "step_attempt"

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(index=True)
    number: int
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: Optional[datetime] = None
    ok: bool = False
    retryable: bool = False
    request: dict = Field(default_factory=dict, sa_type=JSONType)
    response: dict = Field(default_factory=dict, sa_type=JSONType)
    error: str = Field(default="", max_length=2000)
    duration_ms: int = 0


class LeaderLock(SQLModel, table=True):
    """Who runs the scheduler when neither PostgreSQL advisory locks nor Redis are available."""

    __tablename__ = "leader_lock"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime
