"""The log of 转接 (a conversation handed to a colleague): who handed it, to whom, when, and why."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow


class ConversationTransfer(SQLModel, table=True):
    __tablename__ = "conversation_transfer"

    id: Optional[int] = Field(default=None, primary_key=True)
    conversation_id: int = Field(index=True)
    from_user_id: Optional[int] = None  # the assignee before (None: whoever the account belongs to)
    to_user_id: int
    by_user_id: Optional[int] = None
    note: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
