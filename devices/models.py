"""Phones, the WeChat accounts on them, what they report, and the commands they are sent."""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

COMMAND_STATUSES = ("queued", "sent", "acked", "succeeded", "failed", "timeout", "deferred", "refused", "cancelled")
ACCOUNT_STATUSES = ("normal", "paused", "offline", "banned")


class Device(SQLModel, table=True):
    __tablename__ = "device"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)  # sha256 of the device token
    token_prefix: str = Field(max_length=12)
    enabled: bool = True  # unbound devices are refused at hello
    online: bool = False
    last_seen_at: Optional[datetime] = None
    last_ip: str = Field(default="", max_length=64)
    battery: Optional[int] = None
    network: str = Field(default="", max_length=16)
    app_version: str = Field(default="", max_length=32)
    model: str = Field(default="", max_length=64)
    remark: str = Field(default="", max_length=500)
    offline_alerted: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class DeviceLog(SQLModel, table=True):
    """Status history and logs of a device (online/offline, commands, alerts, errors)."""

    __tablename__ = "device_log"
    __table_args__ = (Index("ix_device_log_device_at", "device_id", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    device_id: int
    kind: str = Field(max_length=16)  # online | offline | command | alert | report | error
    message: str = Field(max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class WechatAccount(SQLModel, table=True):
    __tablename__ = "wechat_account"

    id: Optional[int] = Field(default=None, primary_key=True)
    device_id: Optional[int] = Field(default=None, index=True)
    wxid: str = Field(max_length=64, unique=True, index=True)
    alias: str = Field(default="", max_length=64)  # 微信号
    nickname: str = Field(default="", max_length=100)
    mobile: str = Field(default="", max_length=32)
    avatar: str = Field(default="", max_length=500)
    status: str = Field(default="normal", max_length=16)
    health_score: int = 100
    paused_until: Optional[datetime] = None
    pause_reason: str = Field(default="", max_length=200)
    owner_user_id: Optional[int] = Field(default=None, index=True)
    friends_count: int = 0
    groups_count: int = 0
    clean_since: Optional[datetime] = None  # start of the current streak without risk signals
    created_at: datetime = Field(default_factory=utcnow)


class HealthEvent(SQLModel, table=True):
    """健康分 history: every move of an account's score, with its reason."""

    __tablename__ = "health_event"
    __table_args__ = (Index("ix_health_event_account_at", "account_id", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int
    delta: int
    score_after: int
    reason: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class Friend(SQLModel, table=True):
    __tablename__ = "wechat_friend"
    __table_args__ = (UniqueConstraint("account_id", "wxid", name="uq_friend_account_wxid"),
                      Index("ix_friend_customer", "customer_id"), Index("ix_friend_added", "added_at"),
                      Index("ix_friend_wxid", "wxid"))  # the WeCom sidebar finds a customer by wxid (0025)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(index=True)
    wxid: str = Field(max_length=64)
    nickname: str = Field(default="", max_length=100)
    remark: str = Field(default="", max_length=100)
    mobile: str = Field(default="", max_length=32)
    tags: list = Field(default_factory=list, sa_type=JSONType)  # WeChat label names
    source: str = Field(default="", max_length=32)
    customer_id: Optional[int] = None  # linked CRM customer (by phone / wxid)
    added_at: datetime = Field(default_factory=utcnow)
    deleted_at: Optional[datetime] = None


class ChatGroup(SQLModel, table=True):
    __tablename__ = "chat_group"
    __table_args__ = (UniqueConstraint("account_id", "chatroom_id", name="uq_chat_group_account_room"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(index=True)
    chatroom_id: str = Field(max_length=64)
    name: str = Field(default="", max_length=100)
    owner_wxid: str = Field(default="", max_length=64)
    member_count: int = 0
    announcement: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)


class ChatGroupMember(SQLModel, table=True):
    __tablename__ = "chat_group_member"
    __table_args__ = (UniqueConstraint("group_id", "wxid", name="uq_chat_group_member"),
                      Index("ix_chat_group_member_joined", "joined_at"), Index("ix_chat_group_member_left", "left_at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int = Field(index=True)
    wxid: str = Field(max_length=64)
    nickname: str = Field(default="", max_length=100)
    joined_at: datetime = Field(default_factory=utcnow)
    left_at: Optional[datetime] = None
    # First seen by a full member sync: joined_at is the sync time, not a join (no welcome, no join count).
    joined_via_sync: bool = False


class FriendRequest(SQLModel, table=True):
    __tablename__ = "friend_request"
    __table_args__ = (Index("ix_friend_request_account_status", "account_id", "status"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int
    from_wxid: str = Field(max_length=64)
    nickname: str = Field(default="", max_length=100)
    greeting: str = Field(default="", max_length=500)
    source: str = Field(default="", max_length=32)  # search | qrcode | group | card | phone
    status: str = Field(default="pending", max_length=16)  # pending | accepted | rejected | ignored
    handled_by: str = Field(default="", max_length=64)  # rule:<id> | user:<id>
    created_at: datetime = Field(default_factory=utcnow)
    handled_at: Optional[datetime] = None


class AutoAcceptRule(SQLModel, table=True):
    """好友请求自动通过规则: by greeting keywords, by source, with a daily cap and a time window."""

    __tablename__ = "auto_accept_rule"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    account_ids: list = Field(default_factory=list, sa_type=JSONType)  # empty: every account
    keywords: list = Field(default_factory=list, sa_type=JSONType)  # any of; empty: any greeting
    sources: list = Field(default_factory=list, sa_type=JSONType)  # empty: any source
    daily_cap: int = 20
    start_time: str = Field(default="00:00", max_length=5)
    end_time: str = Field(default="23:59", max_length=5)
    enabled: bool = True
    position: int = 0


class DeviceCommand(SQLModel, table=True):
    """A command for a phone: queued → sent → acked → succeeded/failed/timeout; or deferred/refused
    by the risk budget with the reason (never silently dropped)."""

    __tablename__ = "device_command"
    __table_args__ = (Index("ix_device_command_device_status", "device_id", "status"),
                      Index("ix_device_command_not_before", "status", "not_before"),
                      Index("ix_device_command_finished", "finished_at"))  # 数据中心: sends/moments per day

    id: Optional[int] = Field(default=None, primary_key=True)
    device_id: Optional[int] = None
    account_id: int = Field(index=True)
    kind: str = Field(max_length=32)
    payload: dict = Field(default_factory=dict, sa_type=JSONType)
    status: str = Field(default="queued", max_length=16)
    not_before: Optional[datetime] = None  # deferred until (risk budget / pacing)
    reason: str = Field(default="", max_length=500)
    idempotency_key: Optional[str] = Field(default=None, max_length=128, unique=True)
    source: str = Field(default="", max_length=32)  # strategy | manual | template | system
    task_id: Optional[int] = None  # the engine step that issued it
    customer_key: str = Field(default="", max_length=100)  # for the per-customer contact-pressure cap
    result: dict = Field(default_factory=dict, sa_type=JSONType)
    error: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: Optional[datetime] = None
    acked_at: Optional[datetime] = None
    finished_at: Optional[datetime] = None


class BudgetCounter(SQLModel, table=True):
    """Risk-budget counters per account and local day (the database fallback when no Redis)."""

    __tablename__ = "budget_counter"
    __table_args__ = (UniqueConstraint("scope", "day", "kind", name="uq_budget_counter"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    scope: str = Field(max_length=100)  # account:<id> | customer:<key>
    day: date
    kind: str = Field(max_length=32)  # add_friend | send | send_hour:<HH> | touch
    count: int = 0
    last_at: Optional[datetime] = None


class SensitiveWord(SQLModel, table=True):
    __tablename__ = "sensitive_word"
    __table_args__ = (UniqueConstraint("list_name", "word", name="uq_sensitive_word"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    list_name: str = Field(default="默认", max_length=50)
    word: str = Field(max_length=100)
    level: str = Field(default="block", max_length=8)  # block | warn
    enabled: bool = True


class Moment(SQLModel, table=True):
    """A friend's 朋友圈 post reported by a device (auto-like, 朋友圈采集)."""

    __tablename__ = "moment"
    __table_args__ = (UniqueConstraint("account_id", "moment_id", name="uq_moment_account"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(index=True)
    moment_id: str = Field(max_length=64)
    friend_wxid: str = Field(max_length=64, index=True)
    text: str = Field(default="", max_length=5000)
    media: list = Field(default_factory=list, sa_type=JSONType)
    posted_at: datetime = Field(default_factory=utcnow)
    liked: bool = False
    collected: bool = False


class Material(SQLModel, table=True):
    """素材管理: an uploaded image or file, stored under the configured path."""

    __tablename__ = "material"

    id: Optional[int] = Field(default=None, primary_key=True)
    filename: str = Field(max_length=255)
    stored_path: str = Field(max_length=500)
    mime: str = Field(default="", max_length=100)
    size: int = 0
    created_by: Optional[int] = None
    created_at: datetime = Field(default_factory=utcnow)


class ContentItem(SQLModel, table=True):
    """内容库: reusable text, images, links and mini-program cards, with tags and a category."""

    __tablename__ = "content_item"

    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(default="text", max_length=16)  # text | image | link | miniprogram | moment
    title: str = Field(max_length=200)
    text: str = Field(default="", max_length=5000)
    material_ids: list = Field(default_factory=list, sa_type=JSONType)
    link: dict = Field(default_factory=dict, sa_type=JSONType)  # {url, title, desc, thumb} / mini-program card
    tags: list = Field(default_factory=list, sa_type=JSONType)
    category: str = Field(default="", max_length=50)
    source: str = Field(default="manual", max_length=16)  # manual | collected
    source_moment_id: Optional[int] = None
    enabled: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class MomentPost(SQLModel, table=True):
    """朋友圈同步: a content item posted by an account — never the same one twice."""

    __tablename__ = "moment_post"
    __table_args__ = (UniqueConstraint("account_id", "content_id", name="uq_moment_post"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int
    content_id: int
    command_id: Optional[int] = None
    posted_at: datetime = Field(default_factory=utcnow)


class CheckIn(SQLModel, table=True):
    """群打卡: one check-in per member per group per local day."""

    __tablename__ = "group_checkin"
    __table_args__ = (UniqueConstraint("group_id", "member_wxid", "day", name="uq_group_checkin"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int = Field(index=True)
    member_wxid: str = Field(max_length=64)
    nickname: str = Field(default="", max_length=100)
    day: date
    points: int = 1
    created_at: datetime = Field(default_factory=utcnow)
