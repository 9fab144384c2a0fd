"""Background jobs (import, export, auto-tag now, allocation run) and their progress."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

JOB_STATUSES = ("queued", "running", "done", "failed")


class Job(SQLModel, table=True):
    __tablename__ = "crm_job"

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32, index=True)  # customer_import | customer_export | auto_tag | ...
    status: str = Field(default="queued", max_length=16, index=True)
    params: dict = Field(default_factory=dict, sa_type=JSONType)
    total: int = 0
    done: int = 0
    ok: int = 0
    failed: int = 0
    message: str = Field(default="", max_length=1000)
    result_path: str = Field(default="", max_length=500)  # export file or error sheet
    created_by: Optional[int] = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None
    lease_until: Optional[datetime] = None
