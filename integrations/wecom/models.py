"""企业微信 tables: one row per authorised corp (secrets sealed at rest), the mapping of their
departments, members and corp tags to ours, their external contacts (linked to customers), group
chats, and the callback log (accepted / refused, with the reason) that also guards against replays."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType
from config.pii_column import SealedText

SYNC_KINDS = ("org", "tags", "contacts", "groups")  # the order to run them in
SYNC_KIND_LABELS = {"org": "部门与员工", "contacts": "客户（外部联系人）", "tags": "企业标签", "groups": "客户群"}


class WecomCorp(SQLModel, table=True):
    """企业微信授权: the self-built app's credentials. Secrets are SealedText (AES-GCM at rest)."""

    __tablename__ = "wecom_corp"

    id: Optional[int] = Field(default=None, primary_key=True)
    corp_id: str = Field(max_length=64, unique=True)
    name: str = Field(default="", max_length=100)
    agent_id: str = Field(default="", max_length=32)
    contact_secret: str = Field(default="", sa_type=SealedText)  # 客户联系 secret
    app_secret: str = Field(default="", sa_type=SealedText)  # 自建应用 secret (org, JS-SDK, OAuth)
    callback_token: str = Field(default="", sa_type=SealedText)
    encoding_aes_key: str = Field(default="", sa_type=SealedText)
    enabled: bool = True
    # {"org": {"at": iso, "ok": bool, "summary": {...}, "error": ""}, ...}
    sync_status: dict = Field(default_factory=dict, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class WecomDepartment(SQLModel, table=True):
    __tablename__ = "wecom_department"
    __table_args__ = (UniqueConstraint("corp_pk", "wecom_id", name="uq_wecom_department"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    corp_pk: int = Field(foreign_key="wecom_corp.id", index=True)
    wecom_id: int
    parent_wecom_id: int = 0
    name: str = Field(default="", max_length=100)
    department_id: Optional[int] = Field(default=None, index=True)  # ours (department.id)
    removed: bool = False
    synced_at: datetime = Field(default_factory=utcnow)


class WecomMember(SQLModel, table=True):
    """A WeCom employee; `user_id` is our console user it is mapped to (never created as admin)."""

    __tablename__ = "wecom_member"
    __table_args__ = (UniqueConstraint("corp_pk", "userid", name="uq_wecom_member"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    corp_pk: int = Field(foreign_key="wecom_corp.id", index=True)
    userid: str = Field(max_length=64)
    name: str = Field(default="", max_length=100)
    departments: list = Field(default_factory=list, sa_type=JSONType)  # WeCom department ids
    status: int = 1  # 1 active, 2 disabled, 4 not activated, 5 left
    user_id: Optional[int] = Field(default=None, index=True)
    matched_by: str = Field(default="", max_length=16)  # username | name | manual
    removed: bool = False
    synced_at: datetime = Field(default_factory=utcnow)


class WecomTagMap(SQLModel, table=True):
    """企业标签 ↔ our tag."""

    __tablename__ = "wecom_tag_map"
    __table_args__ = (UniqueConstraint("corp_pk", "wecom_tag_id", name="uq_wecom_tag"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    corp_pk: int = Field(foreign_key="wecom_corp.id", index=True)
    wecom_tag_id: str = Field(max_length=64)
    wecom_group_id: str = Field(default="", max_length=64)
    group_name: str = Field(default="", max_length=100)
    name: str = Field(default="", max_length=100)
    tag_id: Optional[int] = Field(default=None, index=True)
    removed: bool = False
    synced_at: datetime = Field(default_factory=utcnow)


class WecomContact(SQLModel, table=True):
    """An external contact (客户) of the corp, linked to our customer."""

    __tablename__ = "wecom_contact"
    __table_args__ = (UniqueConstraint("corp_pk", "external_userid", name="uq_wecom_contact"),
                      Index("ix_wecom_contact_external", "external_userid"))

    id: Optional[int] = Field(default=None, primary_key=True)
    corp_pk: int = Field(foreign_key="wecom_corp.id", index=True)
    external_userid: str = Field(max_length=64)
    unionid: Optional[str] = Field(default=None, max_length=64, index=True)
    name: str = Field(default="", max_length=100)
    type: int = 1  # 1 WeChat user, 2 WeCom user
    gender: int = 0
    corp_name: str = Field(default="", max_length=100)
    # [{"userid", "remark", "state", "createtime", "add_way", "tag_ids": [...]}]
    follow_users: list = Field(default_factory=list, sa_type=JSONType)
    customer_id: Optional[int] = Field(default=None, index=True)
    linked_by: str = Field(default="", max_length=16)  # existing | unionid | mobile | name | created
    deleted_at: Optional[datetime] = None
    synced_at: datetime = Field(default_factory=utcnow)


class WecomGroupChat(SQLModel, table=True):
    __tablename__ = "wecom_group_chat"
    __table_args__ = (UniqueConstraint("corp_pk", "chat_id", name="uq_wecom_group_chat"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    corp_pk: int = Field(foreign_key="wecom_corp.id", index=True)
    chat_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    owner_userid: str = Field(default="", max_length=64)
    notice: str = Field(default="", max_length=2000)
    member_count: int = 0
    members: list = Field(default_factory=list, sa_type=JSONType)  # [{"userid", "type", "join_time", "name"}]
    status: int = 0  # WeCom's 0 normal / 1 跟进人离职 / 2 离职继承中 / 3 继承完成
    dismissed_at: Optional[datetime] = None
    synced_at: datetime = Field(default_factory=utcnow)


class WecomCallback(SQLModel, table=True):
    """One received callback, accepted or refused with its reason (the console counts them)."""

    __tablename__ = "wecom_callback"
    __table_args__ = (Index("ix_wecom_callback_corp_at", "corp_pk", "received_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    corp_pk: int = Field(foreign_key="wecom_corp.id")
    accepted: bool = False
    reason: str = Field(default="", max_length=32)
    event: str = Field(default="", max_length=64)
    change_type: str = Field(default="", max_length=64)
    received_at: datetime = Field(default_factory=utcnow)


class WecomNonce(SQLModel, table=True):
    """A (nonce, timestamp) of a correctly signed callback, taken once: a replay hits the unique
    constraint. Rows older than the timestamp tolerance are pruned (a stale one is refused anyway)."""

    __tablename__ = "wecom_nonce"
    __table_args__ = (UniqueConstraint("corp_pk", "nonce", "timestamp", name="uq_wecom_nonce"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    corp_pk: int = Field(foreign_key="wecom_corp.id")
    nonce: str = Field(max_length=64)
    timestamp: str = Field(max_length=20)
    received_at: datetime = Field(default_factory=utcnow, index=True)
