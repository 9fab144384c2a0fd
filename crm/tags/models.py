"""Tag categories, tags, customer–tag links and the tag history."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

TAG_KINDS = ("auto", "manual", "personal")  # 全局自动 / 全局手动 / 个人
TAG_KIND_LABELS = {"auto": "全局自动标签", "manual": "全局手动标签", "personal": "个人标签"}


class TagCategory(SQLModel, table=True):
    __tablename__ = "tag_category"

    id: Optional[int] = Field(default=None, primary_key=True)
    parent_id: Optional[int] = Field(default=None, foreign_key="tag_category.id", index=True)
    object_type: str = Field(default="customer", max_length=32)  # customer now; product later
    name: str = Field(max_length=100)
    position: int = 0


class Tag(SQLModel, table=True):
    __tablename__ = "tag"

    id: Optional[int] = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="tag_category.id", index=True)
    name: str = Field(max_length=100, index=True)
    kind: str = Field(default="manual", max_length=16)
    owner_id: Optional[int] = Field(default=None, index=True)  # personal tags: visible to this user only
    validity_days: Optional[int] = None  # natural days; removed at 00:00 after expiry; None = forever
    score: int = 0
    enabled: bool = True
    # Auto tags: {"mode": "conditions"|"sql", "rows": [...], "include_tags": [ids], "exclude_tags": [ids], "sql": "..."}
    rule: dict = Field(default_factory=dict, sa_type=JSONType)
    last_run_at: Optional[datetime] = None
    last_run_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CustomerTag(SQLModel, table=True):
    __tablename__ = "customer_tag"
    # Only expiring links are indexed for the midnight sweep (most links never expire).
    # WITHOUT ROWID was measured and rejected: the first auto-tag pass over 1M customers ×
    # 50 rules went from 63.6 s to 83.8 s (bench/autotag.py), inserts landing all over a wide
    # clustered B-tree instead of appending.
    __table_args__ = (Index("ix_customer_tag_tag", "tag_id", "customer_id"),
                      Index("ix_customer_tag_expires", "expires_at",
                            sqlite_where=text("expires_at IS NOT NULL"), postgresql_where=text("expires_at IS NOT NULL")))

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True)
    source: str = Field(default="manual", max_length=16)  # manual | auto | strategy | import
    added_by: Optional[int] = None
    added_at: datetime = Field(default_factory=utcnow)
    expires_at: Optional[datetime] = None


class TagHistory(SQLModel, table=True):
    """标签历史: every add/remove (object, tag, manual/auto, add/remove, time, operator)."""

    __tablename__ = "tag_history"
    __table_args__ = (Index("ix_tag_history_at", "created_at"), Index("ix_tag_history_customer", "customer_id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    customer_id: int
    tag_id: int
    tag_name: str = Field(default="", max_length=100)
    action: str = Field(max_length=8)  # add | remove
    source: str = Field(max_length=16)  # manual | auto | expiry | strategy | import
    operator_id: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class ObjectTag(SQLModel, table=True):
    """A tag on a product or a company (customers keep customer_tag, read by every audience query)."""

    __tablename__ = "object_tag"
    __table_args__ = (Index("ix_object_tag_tag", "tag_id"),)

    object_type: str = Field(max_length=16, primary_key=True)
    object_id: int = Field(primary_key=True)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True)
    added_by: Optional[int] = None
    added_at: datetime = Field(default_factory=utcnow)
