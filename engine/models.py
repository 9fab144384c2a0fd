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


# What became of one attempt (事件历史 shows every one, interrupted ones included).
ATTEMPT_STATE_LABELS = {
    "running": "执行中",  # started (committed before the processor was called), no outcome yet
    "ok": "成功",
    "failed": "失败",
    "deferred": "延后（不计次数）",  # e.g. Redis down: the step waits without spending an attempt
    "interrupted": "中断",  # the process died or stopped mid-attempt; the effect may or may not have happened
}


class StepAttempt(SQLModel, table=True):
    """One real call of a processor. The row is written (state "running") and committed before
    the processor runs, then finished with its outcome, so a crash leaves a visible trace."""

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
    state: str = Field(default="running", max_length=16)
    worker: str = Field(default="", max_length=64)  # the process (runtime owner) that ran it


CRON_RUN_STATUS_LABELS = {"running": "运行中", "done": "完成", "failed": "失败", "missed": "错过（停机）"}


class CronRun(SQLModel, table=True):
    """One slot of one cron job: run (done / failed, with its summary) or missed while no
    scheduler was running — a missed slot is recorded, never silently coalesced."""

    __tablename__ = "cron_run"

    id: Optional[int] = Field(default=None, primary_key=True)
    job_key: str = Field(max_length=64, index=True)
    job_name: str = Field(default="", max_length=100)
    slot_at: datetime = Field(index=True)  # the scheduled time this row stands for
    status: str = Field(default="running", max_length=16)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    summary: str = Field(default="", max_length=500)
    worker: str = Field(default="", max_length=64)
    trigger: str = Field(default="schedule", max_length=16)  # schedule | manual (立即执行)
    requested_by: str = Field(default="", max_length=64)  # who clicked 立即执行


class LeaderLock(SQLModel, table=True):
    """Who runs the scheduler when neither PostgreSQL advisory locks nor Redis are available."""

    __tablename__ = "leader_lock"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=128)
    expires_at: datetime
