"""Tasks, follow-up records, message templates and targeted-marketing plans with their runs."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

TASK_KINDS = ("normal", "follow_up")
TASK_STATUSES = ("todo", "doing", "done", "cancelled")
PRIORITIES = ("low", "normal", "high", "urgent")


class Task(SQLModel, table=True):
    """任务中心: a normal task or a follow-up task on a customer."""

    __tablename__ = "sales_task"
    __table_args__ = (Index("ix_sales_task_owner_status", "owner_id", "status"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    kind: str = Field(default="normal", max_length=16)
    customer_id: Optional[int] = Field(default=None, index=True)
    owner_id: int
    creator_id: Optional[int] = Field(default=None, index=True)
    deadline: Optional[datetime] = None
    remind_at: Optional[datetime] = None
    reminded: bool = False
    priority: str = Field(default="normal", max_length=8)
    progress: int = 0  # 0–100
    status: str = Field(default="todo", max_length=16)
    description: str = Field(default="", max_length=2000)
    overdue_notified: bool = False
    position: int = 0  # drag-and-drop order within a board column
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: Optional[datetime] = None


class FollowUp(SQLModel, table=True):
    """跟进记录."""

    __tablename__ = "follow_up"
    __table_args__ = (Index("ix_follow_up_customer_at", "customer_id", "followed_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int
    task_id: Optional[int] = None
    user_id: int
    followed_at: datetime = Field(default_factory=utcnow)
    way: str = Field(default="phone", max_length=16)  # phone | wechat | visit | sms | email | other
    content: str = Field(max_length=2000)
    status: str = Field(default="following", max_length=16)  # following | intent | deal | invalid
    maturity: int = 0  # 0–100
    next_follow_on: Optional[date] = None


class MessageTemplate(SQLModel, table=True):
    """消息模板管理: SMS and e-mail templates with ${var}, rendered in the sandbox."""

    __tablename__ = "message_template"

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    channel: str = Field(default="sms", max_length=8)  # sms | email
    subject: str = Field(default="", max_length=200)
    body: str = Field(max_length=5000)
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    # 变量来源事件: the template may also use this event's fields (${code} of a 验证码 event); a
    # strategy step fills them from the event, 短信推送 asks the sender for them.
    event_code: str = Field(default="", max_length=64)


class MarketingPlan(SQLModel, table=True):
    """定向营销: target customers by tags, run once / daily / every N days, send through a template."""

    __tablename__ = "marketing_plan"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    include_tags: list = Field(default_factory=list, sa_type=JSONType)
    exclude_tags: list = Field(default_factory=list, sa_type=JSONType)
    template_id: int = Field(foreign_key="message_template.id")
    schedule: str = Field(default="once", max_length=16)  # once | daily | every_n_days
    every_days: int = 1
    run_time: str = Field(default="10:00", max_length=5)  # HH:MM in the configured zone
    starts_on: Optional[date] = None
    refresh_audience: bool = True
    # 商品定向营销: a product (commerce ProductSpu id, resolved outside crm) whose 目标客户群 is the
    # audience (narrowed by the tags above when set) and whose name/price/link fill ${product_*}.
    product_id: Optional[int] = Field(default=None, index=True)
    frozen_audience: list = Field(default_factory=list, sa_type=JSONType)  # customer ids when not refreshing
    status: str = Field(default="active", max_length=16)  # active | finished | cancelled
    next_run_at: Optional[datetime] = None
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class MarketingRun(SQLModel, table=True):
    """推送历史: one run of a plan."""

    __tablename__ = "marketing_run"

    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(index=True)
    ran_at: datetime = Field(default_factory=utcnow)
    audience: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    detail: list = Field(default_factory=list, sa_type=JSONType)  # first failures with reasons
