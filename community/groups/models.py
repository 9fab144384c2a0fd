"""Group tags (社群标签, the console's filter) and 群发助手 broadcasts with one row per target group.

A broadcast's targets are written with it in one transaction; each target then carries the device
command that delivers it and its state in words (waiting / sending / delivered / failed + reason),
so a report never has to guess and a target is never left 发送中 past the deadline."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

BROADCAST_TYPES = {"text": "文字", "image": "图片", "miniprogram": "小程序", "link": "链接"}
BROADCAST_STATES = {"scheduled": "待发送", "sending": "发送中", "done": "已完成"}
TARGET_STATES = {"scheduled": "待发送", "waiting": "等待设备上线", "sending": "发送中",
                 "delivered": "已送达", "failed": "失败"}


class GroupTag(SQLModel, table=True):
    __tablename__ = "community_group_tag"
    __table_args__ = (UniqueConstraint("group_id", "name", name="uq_community_group_tag"),
                      Index("ix_community_group_tag_name", "name"))

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int
    name: str = Field(max_length=32)


class GroupBroadcast(SQLModel, table=True):
    __tablename__ = "group_broadcast"

    id: Optional[int] = Field(default=None, primary_key=True)
    msg_type: str = Field(max_length=16)
    content: dict = Field(default_factory=dict, sa_type=JSONType)  # {"text": …} or the card/link/image fields
    scheduled_at: datetime
    deadline_at: datetime  # past it, a group still not delivered is reported failed with the reason
    status: str = Field(default="scheduled", max_length=16, index=True)
    retries: int = 1
    created_by: Optional[int] = None
    source: str = Field(default="api", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: Optional[datetime] = None


class GroupBroadcastTarget(SQLModel, table=True):
    __tablename__ = "group_broadcast_target"
    __table_args__ = (UniqueConstraint("broadcast_id", "group_id", name="uq_group_broadcast_target"),
                      Index("ix_group_broadcast_target_state", "broadcast_id", "state"))

    id: Optional[int] = Field(default=None, primary_key=True)
    broadcast_id: int
    group_id: int
    account_id: int
    group_name: str = Field(default="", max_length=100)
    state: str = Field(default="scheduled", max_length=16)  # TARGET_STATES
    reason: str = Field(default="", max_length=500)
    command_id: Optional[int] = None
    tries: int = 0
    delivered_at: Optional[datetime] = None
    updated_at: datetime = Field(default_factory=utcnow)
