"""User-registered processors and the message outboxes of the built-in ones."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType


class ProcessorDefinition(SQLModel, table=True):
    """An HTTP processor registered in 处理器注册中心; its key is `custom.<slug>` and never changes."""

    __tablename__ = "processor_definition"

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=100, unique=True, index=True)
    name: str = Field(max_length=100)
    method: str = Field(default="POST", max_length=8)
    url: str = Field(max_length=2000)
    # [{"name": str, "value": str, "remark": str, "fixed": bool}]
    params: list = Field(default_factory=list, sa_type=JSONType)
    headers: list = Field(default_factory=list, sa_type=JSONType)
    body: str = Field(default="", max_length=20000)
    timeout_seconds: float = 10.0
    remark: str = Field(default="", max_length=500)
    enabled: bool = True
    # Waits between attempts ("5s, 1m, 30m, 2h"); empty: the server's default schedule.
    retry_schedule: str = Field(default="", max_length=200)
    # Why the server disabled it by itself (e.g. the target answered 410 Gone); cleared on re-enable.
    disabled_reason: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SmsMessage(SQLModel, table=True):
    """Every SMS a processor sent (or, with the outbox provider, would have sent)."""

    __tablename__ = "sms_message"

    id: Optional[int] = Field(default=None, primary_key=True)
    mobile: str = Field(max_length=32, index=True)
    content: str = Field(max_length=2000)
    provider: str = Field(max_length=32)
    status: str = Field(default="sent", max_length=16)
    provider_response: str = Field(default="", max_length=2000)
    idempotency_key: Optional[str] = Field(default=None, max_length=128, unique=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class MailMessage(SQLModel, table=True):
    """Every e-mail handed to the SMTP relay, with the relay's answer."""

    __tablename__ = "mail_message"

    id: Optional[int] = Field(default=None, primary_key=True)
    to: str = Field(max_length=320, index=True)
    subject: str = Field(max_length=500)
    body: str = Field(max_length=100000)
    status: str = Field(default="sent", max_length=16)
    error: str = Field(default="", max_length=2000)
    idempotency_key: Optional[str] = Field(default=None, max_length=128, unique=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
