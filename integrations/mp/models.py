"""公众号 records: an authorised official account (微信授权: appid, sealed AppSecret, the server-config
Token and EncodingAESKey, message mode, 默认客服), its fans (微信粉丝: openid, unionid, subscription,
the customer they are bound to) and per-account callback counters (accepted / duplicate / each
refusal reason), which the overview page shows so a forged or misconfigured push is visible."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow

MODES = {"plain": "明文模式", "compatible": "兼容模式", "safe": "安全模式"}
# Callback outcomes counted per account; the refusal keys are CallbackRefused.reason values.
OUTCOMES = {"accepted": "已接收", "duplicate": "重复推送（已去重）", "bad_signature": "签名错误",
            "stale_timestamp": "时间戳过期", "bad_padding": "解密失败（填充错误）",
            "wrong_receiver": "接收方不符", "replay": "重放请求", "malformed": "格式错误", "too_large": "消息过大"}
BIND_WAYS = {"unionid": "按 UnionID 自动绑定", "manual": "手工绑定"}


class MpAccount(SQLModel, table=True):
    __tablename__ = "mp_account"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    appid: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    secret_sealed: str = Field(default="", max_length=1000)  # AppSecret, SecretBox-sealed
    token: str = Field(default="", max_length=64)  # 服务器配置 Token (signature key)
    aes_key: str = Field(default="", max_length=43)  # EncodingAESKey (safe / compatible mode)
    mode: str = Field(default="safe", max_length=16)  # MODES
    # The slug in the callback URL (/mp/callback/<key>): not the appid, so the URL reveals nothing.
    callback_key: str = Field(max_length=32, sa_column_kwargs={"unique": True})
    default_user_id: Optional[int] = Field(default=None, index=True)  # 默认客服
    enabled: bool = True
    access_token_sealed: str = Field(default="", max_length=1000)
    access_token_expires_at: Optional[datetime] = None
    last_callback_at: Optional[datetime] = None
    last_sync_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MpFan(SQLModel, table=True):
    __tablename__ = "mp_fan"
    __table_args__ = (UniqueConstraint("account_id", "openid", name="uq_mp_fan_openid"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(index=True)
    openid: str = Field(max_length=64)
    unionid: str = Field(default="", max_length=64, index=True)
    nickname: str = Field(default="", max_length=100)
    remark: str = Field(default="", max_length=100)  # the 公众号's own remark for the fan
    subscribed: bool = True
    subscribed_at: Optional[datetime] = None
    unsubscribed_at: Optional[datetime] = None
    subscribe_scene: str = Field(default="", max_length=64)
    customer_id: Optional[int] = Field(default=None, index=True)
    bound_by: str = Field(default="", max_length=16)  # BIND_WAYS, "" when not bound
    synced_at: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class MpCallbackCount(SQLModel, table=True):
    __tablename__ = "mp_callback_count"
    __table_args__ = (UniqueConstraint("account_id", "outcome", name="uq_mp_callback_count"),
                      Index("ix_mp_callback_count_account", "account_id"))

    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int
    outcome: str = Field(max_length=32)  # OUTCOMES
    count: int = 0
    last_at: Optional[datetime] = None
