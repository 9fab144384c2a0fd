"""Customers and what describes them.

Custom fields live in the `attrs` JSON column; each custom field gets an expression index on its
JSON path when it is defined (crm.customers.fields), so filtering 1M customers on a custom field
uses an index on SQLite and PostgreSQL alike — no EAV joins, no schema change per field.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType
from config.pii_column import CONTACT_FIELDS, SealedText, keep_blind_indexes

CUSTOM_FIELD_TYPES = ("text", "number", "boolean", "date", "enum")
CUSTOMER_STATUSES = ("active", "recycled")  # recycled = 回收站


class Company(SQLModel, table=True):
    __tablename__ = "company"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    industry: str = Field(default="", max_length=100)
    address: str = Field(default="", max_length=300)
    phone: str = Field(default="", sa_type=SealedText)
    remark: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    __table_args__ = (
        Index("ix_customer_status_owner", "status", "owner_id"),
        Index("ix_customer_tag_score", "tag_score"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=100, index=True)
    # Sealed at rest (config.pii_column); lookups, dedup and filters use the blind indexes.
    mobile: Optional[str] = Field(default=None, sa_type=SealedText)
    email: Optional[str] = Field(default=None, sa_type=SealedText)
    mobile_bidx: Optional[str] = Field(default=None, max_length=32, index=True)
    mobile_tail_bidx: Optional[str] = Field(default=None, max_length=32, index=True)
    email_bidx: Optional[str] = Field(default=None, max_length=32, index=True)
    wechat_id: Optional[str] = Field(default=None, max_length=64, index=True)
    gender: str = Field(default="", max_length=8)  # 男 | 女 | ""
    birthday: Optional[date] = None
    city: str = Field(default="", max_length=64)
    source: str = Field(default="", max_length=64)
    company_id: Optional[int] = Field(default=None, foreign_key="company.id", index=True)
    owner_id: Optional[int] = Field(default=None, index=True)  # the salesperson following it (私有客户)
    invited_by_id: Optional[int] = Field(default=None, index=True)  # MGM: the customer who invited this one
    status: str = Field(default="active", max_length=16)
    # Denormalised so audiences sort by quality without joining tags (kept by crm.tags).
    tag_score: int = 0
    follow_count: int = 0
    last_followed_at: Optional[datetime] = None
    # Derived from paid orders (commerce.orders keeps them current): 首购时间, 最近购买, 购买次数, 累计消费 (分)
    first_order_at: Optional[datetime] = Field(default=None, index=True)
    last_order_at: Optional[datetime] = Field(default=None, index=True)
    order_count: int = 0
    total_spent_fen: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0, server_default="0"))
    attrs: dict = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


keep_blind_indexes(Customer, CONTACT_FIELDS)


class CustomField(SQLModel, table=True):
    """数据结构定义: an operator-defined customer field."""

    __tablename__ = "custom_field"

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=32, unique=True)
    label: str = Field(max_length=50)
    type: str = Field(default="text", max_length=16)
    enum_id: Optional[int] = Field(default=None, foreign_key="enum_type.id")
    required: bool = False
    position: int = 0
    show_in_list: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class EnumType(SQLModel, table=True):
    """枚举管理: a named list of choices (e.g. 风险偏好: 保守/稳健/进取)."""

    __tablename__ = "enum_type"

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    # [{"value": "conservative", "label": "保守"}, ...] in display order
    items: list = Field(default_factory=list, sa_type=JSONType)


class SavedQuery(SQLModel, table=True):
    """查询方案: a user's named advanced filter for 客户档案."""

    __tablename__ = "saved_query"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    name: str = Field(max_length=100)
    # {"rows": [...], "include_tags": [ids], "exclude_tags": [ids], "sort": "field" | "-field"}
    query: dict = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow)


class DetailTab(SQLModel, table=True):
    """客户详情TABS: an extra tab on the customer detail page (UI template or external URL)."""

    __tablename__ = "detail_tab"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=50)
    kind: str = Field(default="url", max_length=16)  # url | template
    content: str = Field(default="", max_length=5000)
    position: int = 0
    enabled: bool = True


class Attachment(SQLModel, table=True):
    __tablename__ = "customer_attachment"

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int = Field(index=True)
    filename: str = Field(max_length=255)
    stored_path: str = Field(max_length=500)
    size: int = 0
    uploaded_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class GrowthRecord(SQLModel, table=True):
    """成长记录: every tag/group/assignment/strategy event that touched a customer, newest first."""

    __tablename__ = "growth_record"
    __table_args__ = (Index("ix_growth_customer_at", "customer_id", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int
    kind: str = Field(max_length=32)  # tag | group | assign | recycle | follow | strategy | import | transfer
    summary: str = Field(max_length=500)
    operator_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
