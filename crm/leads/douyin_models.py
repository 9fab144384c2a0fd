"""抖音号 authorised for a 抖音获客 scene through the platform's OAuth (抖音授权): who it is, its
tokens (sealed with the server's secret box, never shown), when they expire and whether the account
still works (有效 / 已过期 / 已撤销), and where its fan sync stopped."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.clock import utcnow

ACCOUNT_STATES = {"active": "有效", "expired": "已过期（需重新授权）", "revoked": "已撤销"}


class DouyinAccount(SQLModel, table=True):
    __tablename__ = "douyin_account"
    __table_args__ = (UniqueConstraint("scene_id", "open_id", name="uq_douyin_account_scene_open_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    scene_id: int = Field(foreign_key="lead_scene.id", index=True, ondelete="CASCADE")
    open_id: str = Field(max_length=128)
    nickname: str = Field(default="", max_length=100)
    avatar: str = Field(default="", max_length=500)
    scopes: str = Field(default="", max_length=500)
    access_token_sealed: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    refresh_token_sealed: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    access_expires_at: Optional[datetime] = None
    refresh_expires_at: Optional[datetime] = None
    status: str = Field(default="active", max_length=16)  # ACCOUNT_STATES
    last_error: str = Field(default="", max_length=500)
    fans_cursor: str = Field(default="", max_length=200)
    authorised_by: Optional[int] = None  # the user who completed the consent
    authorised_at: datetime = Field(default_factory=utcnow)
    refreshed_at: Optional[datetime] = None
    updated_at: datetime = Field(default_factory=utcnow)
