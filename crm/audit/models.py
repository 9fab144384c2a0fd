"""The three audit tables. Values are stored already masked (crm.audit.masking): a log page or an
export never needs pii.view, and a leaked backup of the log holds no phone number in clear."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType


class LoginLog(SQLModel, table=True):
    """One sign-in attempt (or sign-out): never the password, the username as typed (masked)."""

    __tablename__ = "login_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    username: str = Field(default="", max_length=150, index=True)
    user_id: Optional[int] = Field(default=None, index=True)
    # crm.audit.logins.RESULTS: success, bad_password, unknown_user, disabled, throttled, …
    result: str = Field(max_length=32, index=True)
    channel: str = Field(default="console", max_length=32)
    ip: str = Field(default="", max_length=64, index=True)
    user_agent: str = Field(default="", max_length=500)
    detail: str = Field(default="", max_length=500)


class OperationLog(SQLModel, table=True):
    """One object changed by one write request (or, with action "request", a write request that
    changed nothing through the ORM). Rows of one request share `request_id`."""

    __tablename__ = "operation_log"
    __table_args__ = (Index("ix_operation_log_object", "table_name", "object_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    request_id: str = Field(max_length=32, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    user_id: Optional[int] = Field(default=None, index=True)
    username: str = Field(default="", max_length=100)
    via: str = Field(default="console", max_length=16)  # console | api
    method: str = Field(default="", max_length=8)
    endpoint: str = Field(default="", max_length=200)  # filtered by "contains": an index would not help
    path: str = Field(default="", max_length=500)
    ip: str = Field(default="", max_length=64)
    # insert | update | delete | bulk_insert | bulk_update | bulk_delete | request
    action: str = Field(max_length=16)
    table_name: str = Field(default="", max_length=100)  # indexed with object_id (one index, less to maintain)
    object_id: str = Field(default="", max_length=100)
    # {column: [before, after]} for the columns that changed, masked / redacted
    changes: dict = Field(default_factory=dict, sa_type=JSONType)
    summary: str = Field(default="", max_length=2000)  # bulk statements: condition and values
    rowcount: Optional[int] = None
    status_code: Optional[int] = None


class ErrorLog(SQLModel, table=True):
    """An unhandled exception of a request; `reference` is what the user was shown (参考编号)."""

    __tablename__ = "error_log"

    id: Optional[int] = Field(default=None, primary_key=True)
    reference: str = Field(max_length=32, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    method: str = Field(default="", max_length=8)
    endpoint: str = Field(default="", max_length=200, index=True)
    path: str = Field(default="", max_length=500)
    user_id: Optional[int] = Field(default=None, index=True)
    username: str = Field(default="", max_length=100)
    ip: str = Field(default="", max_length=64)
    exc_type: str = Field(default="", max_length=200, index=True)
    message: str = Field(default="", max_length=2000)
    stack: str = Field(default="", max_length=60000)
