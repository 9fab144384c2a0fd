"""电话获客 outbound (外呼): a call task (外呼任务) dials a list of numbers — leads matching a filter or
customers with chosen tags, snapshot when the task starts — through a CTI, with the seats (staff) who
call, a time window, retry rules for 未接通/忙线 and the 话术 the caller reads. Each dial is a CallRecord
(通话记录) updated by the CTI's signed status callbacks; its recording is fetched into var/recordings
(size-capped, type-checked) and every play or download is logged. Numbers are sealed at rest with
blind indexes, like customers' phones; DoNotCall numbers are never dialled."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType
from config.pii_column import SealedText, keep_blind_indexes

TASK_STATES = {"draft": "未开始", "running": "进行中", "paused": "已暂停", "done": "已完成"}
TASK_SOURCES = {"leads": "按线索筛选", "tags": "按客户标签"}
TARGET_STATES = {"pending": "待拨打", "calling": "通话中", "done": "已接通", "failed": "未接通（已结束）",
                 "skipped": "已跳过"}
CALL_STATES = {"dialing": "呼叫中", "ringing": "振铃", "answered": "通话中", "ended": "已结束"}
CALL_RESULTS = {"answered": "已接通", "no_answer": "未接通", "busy": "忙线", "failed": "呼叫失败", "refused": "未拨打"}
RETRYABLE = ("no_answer", "busy")
INTENTS = ("高", "中", "低", "无")


class CallTask(SQLModel, table=True):
    __tablename__ = "call_task"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    status: str = Field(default="draft", max_length=16)  # TASK_STATES
    source: str = Field(default="leads", max_length=16)  # TASK_SOURCES
    # leads: {"scene_id", "channel_id", "statuses": [...]}; tags: {"tag_ids": [...]}
    filters: dict = Field(default_factory=dict, sa_type=JSONType)
    seat_user_ids: list = Field(default_factory=list, sa_type=JSONType)
    window: str = Field(default="09:00-18:00", max_length=16)  # HH:MM-HH:MM, configured zone
    max_attempts: int = 3
    retry_minutes: int = 30
    retry_on: list = Field(default_factory=lambda: list(RETRYABLE), sa_type=JSONType)
    script: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # 话术
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None


class CallTarget(SQLModel, table=True):
    __tablename__ = "call_target"
    __table_args__ = (UniqueConstraint("task_id", "mobile_bidx", name="uq_call_target_number"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="call_task.id", index=True, ondelete="CASCADE")
    lead_id: Optional[int] = None
    customer_id: Optional[int] = None
    name: str = Field(default="", max_length=100)
    mobile: Optional[str] = Field(default=None, sa_type=SealedText)
    mobile_bidx: Optional[str] = Field(default=None, max_length=32, index=True)
    mobile_tail_bidx: Optional[str] = Field(default=None, max_length=32)
    status: str = Field(default="pending", max_length=16, index=True)  # TARGET_STATES
    attempts: int = 0
    next_attempt_at: Optional[datetime] = None
    last_result: str = Field(default="", max_length=16)
    reason: str = Field(default="", max_length=300)
    updated_at: datetime = Field(default_factory=utcnow)


class CallRecord(SQLModel, table=True):
    __tablename__ = "call_record"

    id: Optional[int] = Field(default=None, primary_key=True)
    call_id: str = Field(max_length=64, unique=True)  # ours, sent to the CTI; its callbacks name it
    task_id: Optional[int] = Field(default=None, index=True)
    target_id: Optional[int] = Field(default=None, index=True)
    seat_user_id: Optional[int] = Field(default=None, index=True)
    lead_id: Optional[int] = Field(default=None, index=True)
    customer_id: Optional[int] = None
    mobile: Optional[str] = Field(default=None, sa_type=SealedText)
    mobile_bidx: Optional[str] = Field(default=None, max_length=32, index=True)
    mobile_tail_bidx: Optional[str] = Field(default=None, max_length=32)
    status: str = Field(default="dialing", max_length=16)  # CALL_STATES
    result: str = Field(default="", max_length=16)  # CALL_RESULTS
    started_at: datetime = Field(default_factory=utcnow, index=True)
    answered_at: Optional[datetime] = None
    ended_at: Optional[datetime] = None
    duration_seconds: int = 0
    intent: str = Field(default="", max_length=4)  # INTENTS
    notes: str = Field(default="", max_length=2000)
    error: str = Field(default="", max_length=500)
    recording_url: str = Field(default="", max_length=1000)
    recording_path: str = Field(default="", max_length=300)
    recording_type: str = Field(default="", max_length=32)
    recording_size: int = 0
    recording_error: str = Field(default="", max_length=300)


class DoNotCall(SQLModel, table=True):
    __tablename__ = "call_do_not_call"

    id: Optional[int] = Field(default=None, primary_key=True)
    mobile: Optional[str] = Field(default=None, sa_type=SealedText)
    mobile_bidx: Optional[str] = Field(default=None, max_length=32, unique=True)
    mobile_tail_bidx: Optional[str] = Field(default=None, max_length=32)
    reason: str = Field(default="", max_length=200)
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class RecordingAccess(SQLModel, table=True):
    """Who played or downloaded which recording, when, from where."""

    __tablename__ = "call_recording_access"

    id: Optional[int] = Field(default=None, primary_key=True)
    record_id: int = Field(index=True)
    user_id: int
    action: str = Field(max_length=16)  # play / download
    ip: str = Field(default="", max_length=64)
    at: datetime = Field(default_factory=utcnow)


for _model in (CallTarget, CallRecord, DoNotCall):
    keep_blind_indexes(_model, {"mobile": "mobile"})
