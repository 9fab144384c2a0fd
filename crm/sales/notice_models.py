"""站内通知管理: a notice an operator composes (draft, then sent) to users, roles and departments.

Sending copies it into each recipient's in-site notifications (crm.people Notification); this
row keeps the composed original, its recipients and its attachments.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

NOTICE_STATUSES = ("draft", "sent")


class Notice(SQLModel, table=True):
    __tablename__ = "notice"

    id: Optional[int] = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=5000)
    # {"users": [ids], "roles": [ids], "departments": [ids]}
    recipients: dict = Field(default_factory=dict, sa_type=JSONType)
    # [{"id": "<hex>", "name": "报价单.pdf", "size": 1234}] — files under var_dir/notice_attachments/<notice id>/
    attachments: list = Field(default_factory=list, sa_type=JSONType)
    status: str = Field(default="draft", max_length=8, index=True)
    recipient_count: int = 0
    created_by: Optional[int] = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: Optional[datetime] = None
