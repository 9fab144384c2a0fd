"""Rollup tables of 群活 and 群活监控.

GroupActivityDay holds one row per (group, local day): counters the rollup adds to as new messages
arrive (messages, last message) and figures it recomputes for the day (joins, quits, members,
speakers). GroupSpeakerDay keeps who spoke how often per day, so a window's distinct speakers and
top speakers are a GROUP BY over at most days × speakers rows, never over the messages.
ActivityMark is the rollup's watermark (the last chat_message id it has counted)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType


class GroupActivityDay(SQLModel, table=True):
    __tablename__ = "group_activity_day"
    __table_args__ = (UniqueConstraint("group_id", "day", name="uq_group_activity_day"),
                      Index("ix_group_activity_day_day", "day"))

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int
    day: date
    messages: int = 0
    speakers: int = 0
    joins: int = 0
    quits: int = 0
    members: int = 0
    last_message_at: Optional[datetime] = None


class GroupSpeakerDay(SQLModel, table=True):
    __tablename__ = "group_speaker_day"
    __table_args__ = (UniqueConstraint("group_id", "day", "sender_id", name="uq_group_speaker_day"),
                      Index("ix_group_speaker_day_day", "day"))

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int
    day: date
    sender_id: str = Field(max_length=64)
    sender_name: str = Field(default="", max_length=100)
    messages: int = 0


class ActivityMark(SQLModel, table=True):
    __tablename__ = "group_activity_mark"

    key: str = Field(primary_key=True, max_length=32)
    last_id: int = 0
    updated_at: datetime = Field(default_factory=utcnow)


ALERT_KINDS = {"silent": "无消息", "low_speakers": "发言人数过低", "churning": "退群多于入群"}
ALERT_EVENTS = {"silent": "group.inactive", "low_speakers": "group.inactive", "churning": "group.churning"}


class GroupAlertRule(SQLModel, table=True):
    """One 群活监控 rule: for every group (group_id None) or one group; `threshold` is days for
    silent, a percentage of members for low_speakers, and `days` the window it looks at."""

    __tablename__ = "group_alert_rule"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    kind: str = Field(max_length=16)  # ALERT_KINDS
    group_id: Optional[int] = Field(default=None, index=True)
    days: int = 7
    threshold: int = 0
    enabled: bool = True
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class GroupAlert(SQLModel, table=True):
    """One episode of a rule's condition on one group: open while it holds, closed when it clears.
    The evaluator (cron, scheduler leader only) opens one only when none is open for (rule, group)."""

    __tablename__ = "group_alert"
    __table_args__ = (Index("ix_group_alert_open", "rule_id", "group_id", "status"),
                      Index("ix_group_alert_opened", "opened_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    rule_id: int
    group_id: int = Field(index=True)
    kind: str = Field(max_length=16)
    status: str = Field(default="open", max_length=8)  # open | closed
    detail: str = Field(default="", max_length=300)
    figures: dict = Field(default_factory=dict, sa_type=JSONType)
    event_code: str = Field(default="", max_length=64)
    opened_at: datetime = Field(default_factory=utcnow)
    closed_at: Optional[datetime] = None
