"""A Broadcast (群发任务) and its BroadcastRecipient rows — the delivery ledger: one row per friend,
UNIQUE(broadcast_id, friend_id), planned once; its device command carries the idempotency key
broadcast:{id}:{friend_id}, so a run killed midway resumes without sending anyone a second copy."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

# scheduled → running (planning the sends) → sending (every recipient planned; commands in flight) → done
BROADCAST_STATES = {"scheduled": "待发送", "running": "发送中", "sending": "投递中", "done": "已完成",
                    "cancelled": "已取消"}
RECIPIENT_STATES = {"pending": "待发送", "queued": "排队中", "deferred": "已延后", "sent": "已送达",
                    "failed": "发送失败", "skipped": "已跳过"}
TARGET_MODES = {"tags": "按标签", "audience": "按客户群", "accounts": "按微信号"}
SCENES = {"activity": "活动通知", "holiday": "节日祝福", "promotion": "产品推广", "care": "关怀问候"}
# 运营规范 §4.3: the seconds between two sends of one 群发 on one account, per scene.
SCENE_GAPS = {"activity": (3, 8), "holiday": (5, 10), "promotion": (5, 10), "care": (5, 10)}


class Broadcast(SQLModel, table=True):
    __tablename__ = "broadcast"
    __table_args__ = (Index("ix_broadcast_status_at", "status", "scheduled_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    scene: str = Field(default="activity", max_length=16)  # SCENES
    status: str = Field(default="scheduled", max_length=16)  # BROADCAST_STATES
    # {"mode": tags|audience|accounts, "tag_ids": [...], "labels": [...], "audience": {...}, "account_ids": [...]}
    target: dict = Field(default_factory=dict, sa_type=JSONType)
    # {"msg_type", "text", "url", "title", "description", "material_id", "appid", "pagepath",
    #  "content_item_id", "quick_reply_id"}
    content: dict = Field(default_factory=dict, sa_type=JSONType)
    gap_min_seconds: float = 3.0
    gap_max_seconds: float = 8.0
    scheduled_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = None
    planned_at: Optional[datetime] = None  # every recipient planned
    finished_at: Optional[datetime] = None
    cancelled_at: Optional[datetime] = None
    recipient_count: int = 0
    reason: str = Field(default="", max_length=300)  # why it stopped (cancelled, content gone …)
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class BroadcastRecipient(SQLModel, table=True):
    __tablename__ = "broadcast_recipient"
    __table_args__ = (UniqueConstraint("broadcast_id", "friend_id", name="uq_broadcast_recipient"),
                      Index("ix_broadcast_recipient_state", "broadcast_id", "status"),
                      Index("ix_broadcast_recipient_friend", "friend_id", "planned_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    broadcast_id: int
    friend_id: int
    account_id: int = Field(index=True)
    wxid: str = Field(max_length=64)
    nickname: str = Field(default="", max_length=100)
    customer_id: Optional[int] = None
    status: str = Field(default="pending", max_length=16)  # RECIPIENT_STATES
    reason: str = Field(default="", max_length=500)
    command_id: Optional[int] = None
    message_id: Optional[int] = None
    planned_at: Optional[datetime] = None  # when its send was issued (the weekly guard counts these)
    due_at: Optional[datetime] = None  # the earliest it may go (this 群发's gap on the account)
    updated_at: datetime = Field(default_factory=utcnow)
