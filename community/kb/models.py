"""Knowledge-base tables: topics, entries (a Q&A pair with alternative phrasings, or a longer
document whose body is split into passages), and the answer log staff mark 已解决 / 未解决."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

ENTRY_KINDS = {"qa": "问答", "doc": "文档"}
RESOLUTIONS = {"": "待评价", "resolved": "已解决", "unresolved": "未解决"}


class KbTopic(SQLModel, table=True):
    __tablename__ = "kb_topic"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class KbEntry(SQLModel, table=True):
    __tablename__ = "kb_entry"

    id: Optional[int] = Field(default=None, primary_key=True)
    topic_id: Optional[int] = Field(default=None, index=True)
    kind: str = Field(default="qa", max_length=8)  # ENTRY_KINDS
    key: str = Field(default="", max_length=64)  # an import's stable key (re-importing updates, never duplicates)
    question: str = Field(max_length=300)  # a document's title
    alternatives: list = Field(default_factory=list, sa_type=JSONType)  # other phrasings of the question
    keywords: list = Field(default_factory=list, sa_type=JSONType)  # custom words jieba keeps whole
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # a document's body
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class KbPassage(SQLModel, table=True):
    """A document's body cut into passages of a few sentences: each is ranked on its own."""

    __tablename__ = "kb_passage"

    id: Optional[int] = Field(default=None, primary_key=True)
    entry_id: int = Field(index=True)
    seq: int = 0
    text: str = Field(sa_column=Column(Text, nullable=False, default=""))


class KbAnswerLog(SQLModel, table=True):
    __tablename__ = "kb_answer_log"
    __table_args__ = (Index("ix_kb_answer_log_created", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    conversation_id: Optional[int] = Field(default=None, index=True)
    question: str = Field(sa_column=Column(Text, nullable=False, default=""))
    entry_id: Optional[int] = Field(default=None, index=True)
    passage_id: Optional[int] = None
    score: float = 0.0  # confidence 0..1
    answer: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    handed_over: bool = False
    reason: str = Field(default="", max_length=300)
    phrased_by_llm: bool = False
    message_id: Optional[int] = None  # the outbound ChatMessage that carried the answer
    source: str = Field(default="strategy", max_length=16)  # "strategy": a 智能回复 step answered it
    step_key: str = Field(default="", max_length=128, index=True)  # the strategy step's idempotency key
    resolution: str = Field(default="", max_length=16)  # RESOLUTIONS
    resolved_by: Optional[int] = None
    resolved_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
