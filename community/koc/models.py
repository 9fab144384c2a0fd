"""KOC tables: the KOC (a customer or a staff member), the groups they lead, their tasks and the
check-ins they started."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow

TASK_KINDS = {"topic": "发起话题", "activity": "组织活动", "checkin": "发起打卡"}
TASK_STATES = {"open": "进行中", "done": "已完成", "expired": "已逾期", "cancelled": "已取消"}


class Koc(SQLModel, table=True):
    __tablename__ = "koc"

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: Optional[int] = Field(default=None, index=True, unique=True)
    user_id: Optional[int] = Field(default=None, index=True, unique=True)
    name: str = Field(max_length=100)
    wxid: str = Field(default="", max_length=64)  # who they speak as in their groups (task checks read it)
    # Part of the H5 link's signature: 重置链接 changes it and every older link stops working.
    link_nonce: str = Field(default="", max_length=32)
    active: bool = True
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class KocGroup(SQLModel, table=True):
    """A group a KOC leads (one KOC per group)."""

    __tablename__ = "koc_group"
    __table_args__ = (UniqueConstraint("group_id", name="uq_koc_group_group"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    koc_id: int = Field(index=True)
    group_id: int
    created_at: datetime = Field(default_factory=utcnow)


class KocTask(SQLModel, table=True):
    __tablename__ = "koc_task"

    id: Optional[int] = Field(default=None, primary_key=True)
    koc_id: int = Field(index=True)
    group_id: int = Field(index=True)
    kind: str = Field(max_length=16)  # TASK_KINDS
    title: str = Field(max_length=100)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    keyword: str = Field(default="", max_length=50)  # the topic's / activity's keyword ("" any message)
    min_chars: int = 0  # the KOC's opening message at least this long
    min_replies: int = 3  # replies (topic), distinct participants (activity), members checked in (check-in)
    due_at: datetime
    status: str = Field(default="open", max_length=16)  # TASK_STATES
    completed_at: Optional[datetime] = None
    completed_by: Optional[int] = None  # staff user who marked it by hand; None: checked from the messages
    evidence: str = Field(default="", max_length=300)
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class KocCheckin(SQLModel, table=True):
    """A 群打卡 a KOC started from their H5: an ordinary 工作台 群打卡 task bound to their group."""

    __tablename__ = "koc_checkin"

    id: Optional[int] = Field(default=None, primary_key=True)
    koc_id: int = Field(index=True)
    group_id: int = Field(index=True)
    strategy_id: int
    keyword: str = Field(max_length=20)
    points: int = 0
    message_id: Optional[int] = None  # the announcement sent in the group
    started_at: datetime = Field(default_factory=utcnow)
