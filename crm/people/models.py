"""Users, roles, API tokens and in-site notifications."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlmodel import Field, SQLModel

from config.clock import utcnow
from config.db_types import JSONType
from config.pii_column import SealedText


class Role(SQLModel, table=True):
    __tablename__ = "role"

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=100)
    permissions: list = Field(default_factory=list, sa_type=JSONType)
    builtin: bool = False


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(default="", max_length=100)
    password_hash: str
    email: str = Field(default="", sa_type=SealedText)  # sealed at rest (config.pii_column)
    mobile: str = Field(default="", sa_type=SealedText)
    enabled: bool = True
    is_admin: bool = False
    must_change_password: bool = False
    failed_logins: int = 0
    locked_until: Optional[datetime] = None
    last_login_at: Optional[datetime] = None
    # 脱敏管理: mask | private_clear | assigned_clear | group_clear | clear
    mask_mode: str = Field(default="mask", max_length=16)
    created_at: datetime = Field(default_factory=utcnow)


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    role_id: int = Field(foreign_key="role.id", primary_key=True)


class ApiToken(SQLModel, table=True):
    """A bearer token for /api/v1; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=12)
    revoked: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: Optional[datetime] = None


class AuthSession(SQLModel, table=True):
    """A console sign-in: the cookie holds a random id, this row (found by its SHA-256) says
    whether it is still live. Logout, a password change and disabling the user set revoked_at,
    so a copied cookie stops working server-side, not only in the browser that logged out."""

    __tablename__ = "auth_session"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200)
    revoked_at: Optional[datetime] = None


class StashedFlash(SQLModel, table=True):
    """Flash messages waiting for the next page: kept here, not in the (signed, readable) session
    cookie, because they may name customers or staff; the cookie holds only a random reference."""

    __tablename__ = "stashed_flash"

    id: Optional[int] = Field(default=None, primary_key=True)
    ref_hash: str = Field(max_length=64, unique=True, index=True)
    messages: list = Field(default_factory=list, sa_type=JSONType)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Notification(SQLModel, table=True):
    """站内通知: a message to one user, with an unread badge in the console."""

    __tablename__ = "notification"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(index=True)
    title: str = Field(max_length=200)
    body: str = Field(default="", max_length=5000)
    link: str = Field(default="", max_length=500)
    source: str = Field(default="", max_length=64)
    read: bool = False
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Department(SQLModel, table=True):
    """组织管理: a department tree; a user may belong to several departments."""

    __tablename__ = "department"

    id: Optional[int] = Field(default=None, primary_key=True)
    parent_id: Optional[int] = Field(default=None, foreign_key="department.id", index=True)
    name: str = Field(max_length=100)
    position: int = 0


class UserDepartment(SQLModel, table=True):
    __tablename__ = "user_department"

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    department_id: int = Field(foreign_key="department.id", primary_key=True)
