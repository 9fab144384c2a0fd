"""任务调度 tables: each cron job's stored schedule, the jobs an admin registered (定时任务注册),
立即执行 requests waiting for the scheduler leader, and a version counter every process checks
so a saved change reaches the leader within seconds, without a restart."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

# Who started a run (CronRun.trigger): the schedule, or a person's 立即执行.
TRIGGER_LABELS = {"schedule": "定时", "manual": "手动"}
REQUEST_STATUS_LABELS = {"pending": "排队中", "running": "执行中", "done": "已完成", "failed": "失败"}
CUSTOM_ACTION_LABELS = {"event": "触发事件", "http": "调用 HTTP 处理器"}


class CronSchedule(SQLModel, table=True):
    """The schedule an operator set for one job (by its stable key); no row = the code's default."""

    __tablename__ = "cron_schedule"

    job_key: str = Field(primary_key=True, max_length=64)
    schedule: str = Field(default="", max_length=64)  # "HH:MM" or a 5-field cron expression
    enabled: bool = True
    updated_by: str = Field(default="", max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)


class CustomCronJob(SQLModel, table=True):
    """定时任务注册: a job an admin registered. Its schedule and on/off live in cron_schedule under
    its key (user.<id>) like any job's; the action fires an event or calls an HTTP processor."""

    __tablename__ = "cron_custom_job"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    action: str = Field(max_length=16)  # event | http
    target: str = Field(max_length=100)  # the event code, or the processor key (custom.*)
    data: dict = Field(default_factory=dict, sa_type=JSONType)  # event data, or the processor's step config
    remark: str = Field(default="", max_length=500)
    created_by: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def key(self) -> str:
        return f"user.{self.id}"


class CronRunRequest(SQLModel, table=True):
    """立即执行: a row the scheduler leader claims and runs once. `active_key` holds the job key while
    the request is pending or running and is NULL after, so its unique index allows one live
    request per job (NULLs never collide): a second click finds the first in the queue."""

    __tablename__ = "cron_run_request"

    id: Optional[int] = Field(default=None, primary_key=True)
    job_key: str = Field(max_length=64, index=True)
    active_key: Optional[str] = Field(default=None, max_length=64, unique=True)
    status: str = Field(default="pending", max_length=16, index=True)
    requested_by: str = Field(default="", max_length=64)
    requested_at: datetime = Field(default_factory=utcnow)
    claimed_by: str = Field(default="", max_length=128)
    claimed_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    run_id: Optional[int] = None
    note: str = Field(default="", max_length=500)


class CronConfigVersion(SQLModel, table=True):
    """One row; bumped by every schedule or custom-job change. The leader compares it each tick."""

    __tablename__ = "cron_config_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0
