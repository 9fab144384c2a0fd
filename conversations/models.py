"""The message store. A Conversation is one of our accounts (a phone's WeChat account, a 公众号)
talking with one peer (a friend, a group, a fan); a ChatMessage is one message in it, stored once:
UNIQUE(channel, account_id, external_id) where external_id is the platform's message id (a phone's
msg_id, 公众号's MsgId), so a re-sent report or a retried push never stores it twice."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType

CHANNELS = {"wechat": "个人微信", "wecom": "企业微信", "mp": "公众号"}
CONVERSATION_KINDS = {"private": "私聊", "group": "群聊"}
MESSAGE_TYPES = {"text": "文本", "image": "图片", "link": "链接", "miniprogram": "小程序", "file": "文件",
                 "voice": "语音", "video": "视频", "event": "事件", "other": "其他"}
DIRECTIONS = {"in": "收到", "out": "发出"}
# An inbound message is "received". An outbound one follows its device command (or platform API call):
# queued → sent, or deferred (risk budget: a later slot) / refused / failed, each with its reason.
MESSAGE_STATES = {"received": "已收到", "queued": "发送中", "deferred": "已延后", "sent": "已发送",
                  "refused": "已拒绝", "failed": "发送失败"}


class Conversation(SQLModel, table=True):
    __tablename__ = "conversation"
    __table_args__ = (
        UniqueConstraint("channel", "account_id", "kind", "peer_id", name="uq_conversation_peer"),
        Index("ix_conversation_account_last", "account_id", "last_message_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    channel: str = Field(default="wechat", max_length=16)  # CHANNELS
    # wechat: WechatAccount.id; mp: the 公众号 account's id in integrations.mp; wecom: the WeCom user's id
    account_id: int
    kind: str = Field(default="private", max_length=16)  # CONVERSATION_KINDS
    peer_id: str = Field(max_length=64)  # friend wxid / chatroom id / openid / external_userid
    title: str = Field(default="", max_length=200)  # the peer's name when last seen
    friend_id: Optional[int] = Field(default=None, index=True)
    group_id: Optional[int] = Field(default=None, index=True)
    customer_id: Optional[int] = Field(default=None, index=True)
    last_message_at: Optional[datetime] = None
    last_message_text: str = Field(default="", max_length=200)
    last_direction: str = Field(default="", max_length=8)
    last_inbound_at: Optional[datetime] = None  # 公众号's 48 h reply window counts from here
    last_outbound_at: Optional[datetime] = None  # 未回复 = an inbound message after the last outbound one
    unread_count: int = 0
    # Transfer: a colleague who now handles it (otherwise whoever the account is assigned to).
    assignee_id: Optional[int] = Field(default=None, index=True)
    needs_human: bool = False  # 待人工: the automatic answer was not confident enough
    needs_human_reason: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ChatMessage(SQLModel, table=True):
    __tablename__ = "chat_message"
    __table_args__ = (
        UniqueConstraint("channel", "account_id", "external_id", name="uq_chat_message_external"),
        Index("ix_chat_message_conversation_sent", "conversation_id", "sent_at"),
        Index("ix_chat_message_account_sent", "account_id", "sent_at"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    conversation_id: int
    channel: str = Field(default="wechat", max_length=16)
    account_id: int
    external_id: Optional[str] = Field(default=None, max_length=64)  # the platform's message id
    direction: str = Field(default="in", max_length=8)  # DIRECTIONS
    sender_id: str = Field(default="", max_length=64)  # who spoke (a member's wxid in a group)
    sender_name: str = Field(default="", max_length=100)
    msg_type: str = Field(default="text", max_length=16)  # MESSAGE_TYPES; unknown types are kept as "other"
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # type-specific parts: url, title, description, appid, pagepath, file_name, size, duration, at_wxids,
    # material_id, content_item_id, raw_type (an unknown platform type, kept as reported)
    payload: dict = Field(default_factory=dict, sa_type=JSONType)
    sent_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default="received", max_length=16)  # MESSAGE_STATES
    reason: str = Field(default="", max_length=500)  # why deferred / refused / failed, in Chinese
    command_id: Optional[int] = Field(default=None, index=True)  # the device command that sends it
    user_id: Optional[int] = None  # the staff member who sent it (None: a strategy or the phone itself)
