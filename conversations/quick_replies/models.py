"""快捷回复 rows. A reply's text may hold ${变量} (rendered for the customer of the conversation it
is used in); attachments name 素材 (Material) or 内容库 (ContentItem) rows; visibility "all" or the
departments listed; send_count counts uses (picked into a chat box, sent by a 群发)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

VISIBILITY = {"all": "全员可见", "departments": "指定部门可见"}
ATTACHMENT_KINDS = {"material": "素材", "content": "内容库"}


class QuickReplyCategory(SQLModel, table=True):
    __tablename__ = "quick_reply_category"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)
    sort: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class QuickReply(SQLModel, table=True):
    __tablename__ = "quick_reply"
    __table_args__ = (Index("ix_quick_reply_category", "category_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    category_id: Optional[int] = None
    title: str = Field(max_length=100)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    attachments: list = Field(default_factory=list, sa_type=JSONType)  # [{"kind": material|content, "id": n}]
    visibility: str = Field(default="all", max_length=16)  # VISIBILITY
    department_ids: list = Field(default_factory=list, sa_type=JSONType)
    send_count: int = 0
    last_used_at: Optional[datetime] = None
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
