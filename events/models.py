"""Event definitions, apps, event records and idempotency keys."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

FIELD_TYPES = ("text", "number", "boolean", "datetime", "list")
FIELD_TYPE_LABELS = {"text": "文本", "number": "数值", "boolean": "布尔", "datetime": "时间", "list": "列表"}


class EventDefinition(SQLModel, table=True):
    __tablename__ = "event_definition"

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=100)
    enabled: bool = True
    remark: str = Field(default="", max_length=500)
    # [{"name": str, "type": FIELD_TYPES, "label": str, "required": bool, "remark": str}]
    fields: list = Field(default_factory=list, sa_type=JSONType)
    builtin_key: Optional[str] = Field(default=None, max_length=64)
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def picker_label(self) -> str:
        """「名称（code）」 for every event picker: names may repeat, codes never do."""
        return f"{self.name}（{self.code}）"


class App(SQLModel, table=True):
    __tablename__ = "app"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    app_key: str = Field(max_length=64, unique=True, index=True)
    secret_sealed: str
    previous_secret_sealed: Optional[str] = None
    previous_secret_expires_at: Optional[datetime] = None
    ip_allowlist: list = Field(default_factory=list, sa_type=JSONType)
    enabled: bool = True
    remark: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class EventRecord(SQLModel, table=True):
    """One event as received: accepted ones are dispatched, rejected ones keep their reason."""

    __tablename__ = "event_record"
    # 数据中心 counts messages by when they happened (analytics/metrics/sources.py).
    __table_args__ = (Index("ix_event_record_code_occurred", "event_code", "occurred_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    app_id: Optional[int] = Field(default=None, index=True)
    source: str = Field(default="api", max_length=16)  # api | device | webhook | schedule | crm | console
    event_code: str = Field(max_length=64, index=True)
    event_definition_id: Optional[int] = Field(default=None, index=True)
    external_id: Optional[str] = Field(default=None, max_length=128)
    # "<source>:<app or device>:<external id>" for accepted events; unique, so replays are no-ops.
    dedupe_key: Optional[str] = Field(default=None, max_length=256, unique=True)
    occurred_at: datetime = Field(default_factory=utcnow)
    received_at: datetime = Field(default_factory=utcnow, index=True)
    data: dict = Field(default_factory=dict, sa_type=JSONType)
    status: str = Field(default="accepted", max_length=16)  # accepted | rejected
    reject_reason: str = Field(default="", max_length=32)
    errors: list = Field(default_factory=list, sa_type=JSONType)
    # pending → claimed → done; rejected records are "skipped".
    dispatch_status: str = Field(default="pending", max_length=16, index=True)
    claimed_until: Optional[datetime] = None
    dispatched_at: Optional[datetime] = None
    matched_count: int = 0
    # "" until dispatched, then matched | unmatched | error; filters in 事件历史 read it.
    outcome: str = Field(default="", max_length=16)
    outcome_note: str = Field(default="", max_length=500)
    client_ip: str = Field(default="", max_length=64)


class IdempotencyKey(SQLModel, table=True):
    """An Idempotency-Key header seen from an app: a repeat of the same request returns the first
    answer; the same key with a different request (another fingerprint) is refused."""

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("app_id", "key", name="uq_idempotency_app_key"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    app_id: int = Field(index=True)
    key: str = Field(max_length=128)
    # sha256 of the endpoint and the body: what "the same request" means (events.idempotency).
    fingerprint: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})
    status_code: int
    response: dict = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class StateVersion(SQLModel, table=True):
    """When the change that set one piece of state happened (events/ordering.py): a late event
    whose change happened earlier is skipped instead of undoing the later one."""

    __tablename__ = "state_version"
    __table_args__ = (UniqueConstraint("kind", "object_id", "attribute", name="uq_state_version"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # customer_tag | customer_group | customer_assign | …
    object_id: int
    attribute: str = Field(default="", max_length=128)
    occurred_at: datetime
    event_record_id: Optional[int] = None  # the event whose change holds the state; None for an operator's
    updated_at: datetime = Field(default_factory=utcnow)
