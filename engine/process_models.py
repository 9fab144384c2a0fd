"""One row per running server process (web, worker, scheduler, one-process server), refreshed by
its beacon: 系统监控 and /readyz read them to tell a live worker from a dead one."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType


class ProcessHeartbeat(SQLModel, table=True):
    __tablename__ = "process_heartbeat"

    id: Optional[int] = Field(default=None, primary_key=True)
    owner: str = Field(max_length=100, unique=True)  # host:pid:nonce, the runtime's owner name
    kind: str = Field(default="server", max_length=16)  # server | worker | scheduler | web
    roles: list = Field(default_factory=list, sa_type=JSONType)  # dispatch, sweep, cron, web
    host: str = Field(default="", max_length=100)
    pid: int = 0
    started_at: datetime = Field(default_factory=utcnow)
    beat_at: datetime = Field(default_factory=utcnow, index=True)
    interval_seconds: float = 10.0  # its own beat interval: three missed beats of IT make it 失联
    is_leader: bool = False
    info: dict = Field(default_factory=dict, sa_type=JSONType)  # held steps, gateway connections, …
    stopped_at: Optional[datetime] = None  # a clean shutdown says so; a killed process just goes stale
