"""Customer groups, their members and rules, customer–group links and the operation logs."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType


class CustomerGroup(SQLModel, table=True):
    __tablename__ = "customer_group"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    remark: str = Field(default="", max_length=500)
    # 请求任务设置: may salespeople ask for more customers after finishing their tasks?
    allow_requests: bool = False
    requests_per_day: int = 0
    customers_per_request: int = 0
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class GroupMember(SQLModel, table=True):
    """A manager sees every customer of the group; a salesperson sees and follows only their own."""

    __tablename__ = "group_member"

    group_id: int = Field(foreign_key="customer_group.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    role: str = Field(default="sales", max_length=16)  # manager | sales


class GroupLink(SQLModel, table=True):
    """A customer in a group: in the group pool (assignee None) or assigned to a salesperson."""

    __tablename__ = "group_link"
    __table_args__ = (UniqueConstraint("customer_id", "group_id", name="uq_group_link"),
                      Index("ix_group_link_group_assignee", "group_id", "assignee_id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    group_id: int = Field(foreign_key="customer_group.id")
    assignee_id: Optional[int] = Field(default=None, index=True)
    grouped_at: datetime = Field(default_factory=utcnow)
    assigned_at: Optional[datetime] = None
    last_followed_at: Optional[datetime] = None
    progress: str = Field(default="", max_length=32)  # the latest follow-up status for recycle rules


class GroupRule(SQLModel, table=True):
    """客户分组规则: which customers go into which group (ordered, scheduled and on demand)."""

    __tablename__ = "group_rule"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    position: int = 0
    enabled: bool = True
    source: str = Field(default="company_pool", max_length=16)  # company_pool | group | all
    source_group_id: Optional[int] = None
    target_group_id: Optional[int] = None  # None: back to the company pool
    break_old: bool = False  # release the customer's other group relations
    # {"mode": "conditions"|"sql", "rows": [...], "include_tags": [], "exclude_tags": [], "sql": "..."}
    rule: dict = Field(default_factory=dict, sa_type=JSONType)
    last_run_at: Optional[datetime] = None


class AllocationRule(SQLModel, table=True):
    """分配规则 of a group: spread matching pooled customers evenly over salespeople."""

    __tablename__ = "allocation_rule"

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="customer_group.id", index=True)
    name: str = Field(max_length=100)
    position: int = 0
    enabled: bool = True
    salespeople: list = Field(default_factory=list, sa_type=JSONType)  # user ids; empty = all of the group
    rule: dict = Field(default_factory=dict, sa_type=JSONType)
    create_task: bool = True
    last_run_at: Optional[datetime] = None


class RecycleRule(SQLModel, table=True):
    """回收规则: not followed for N days (or followed without progress) → back to the group pool."""

    __tablename__ = "recycle_rule"

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="customer_group.id", index=True)
    name: str = Field(max_length=100)
    enabled: bool = True
    days_without_follow: Optional[int] = None
    days_without_progress: Optional[int] = None
    reassign_to_other: bool = True
    last_run_at: Optional[datetime] = None


class CrmLog(SQLModel, table=True):
    """操作日志: 分组日志 / 分配日志 / 回收历史 / 转移记录 in one table keyed by `kind`."""

    __tablename__ = "crm_log"
    __table_args__ = (Index("ix_crm_log_kind_at", "kind", "created_at"), Index("ix_crm_log_customer", "customer_id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # group | allocation | recycle | transfer
    action: str = Field(max_length=16)  # add | delete | assign | release | recycle | transfer | restore
    customer_id: int
    group_id: Optional[int] = None
    from_user_id: Optional[int] = None
    to_user_id: Optional[int] = None
    rule_name: str = Field(default="", max_length=100)
    reason: str = Field(default="", max_length=500)
    operator_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
