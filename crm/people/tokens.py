"""API tokens for /api/v1: shown to the user once, stored only as a SHA-256 digest."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlmodel import select

from config.clock import as_utc, utcnow
from config.db import Database
from crm.people.errors import PeopleError
from crm.people.models import ApiToken, User

TOKEN_PREFIX = "ckb_"
# Recording every use would turn each API read into a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)
MAX_TOKENS_PER_USER = 20


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(db: Database, username: str, name: str, now: Optional[datetime] = None) -> str:
    """A new token for `username`; the plaintext is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise PeopleError("请填写令牌名称，例如用途或调用方", "name")
    if len(name) > 100:
        raise PeopleError("令牌名称不能超过 100 个字符", "name")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise PeopleError("用户不存在")
        active = session.exec(select(ApiToken).where(ApiToken.user_id == user.id,
                                                     ApiToken.revoked == False)).all()  # noqa: E712
        if len(active) >= MAX_TOKENS_PER_USER:
            raise PeopleError(f"每个用户最多 {MAX_TOKENS_PER_USER} 个有效令牌，请先吊销不用的令牌", "name")
        session.add(ApiToken(user_id=user.id, name=name, token_hash=digest(token),
                             prefix=token[:12], created_at=as_utc(now or utcnow())))
    return token


def resolve_token(db: Database, token: str, now: Optional[datetime] = None) -> Optional[User]:
    """The enabled user behind an unrevoked token, or None."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    now = as_utc(now or utcnow())
    with db.read() as session:
        row = session.exec(select(ApiToken, User).join(User, User.id == ApiToken.user_id)
                           .where(ApiToken.token_hash == digest(token))).first()
    if row is None:
        return None
    api_token, user = row
    if api_token.revoked or not user.enabled:
        return None
    last = as_utc(api_token.last_used_at) if api_token.last_used_at else None
    if last is None or now - last >= LAST_USED_PRECISION:
        with db.write() as session:
            fresh = session.get(ApiToken, api_token.id)
            fresh.last_used_at = now
            session.add(fresh)
    return user


def list_tokens(db: Database, user_id: int) -> list[ApiToken]:
    with db.read() as session:
        stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        return list(session.exec(stmt).all())


def revoke_token(db: Database, user_id: int, token_id: int) -> ApiToken:
    """Revokes one of the user's own tokens (another user's token counts as not found)."""
    with db.write() as session:
        token = session.get(ApiToken, token_id)
        if token is None or token.user_id != user_id:
            raise PeopleError("令牌不存在")
        token.revoked = True
        session.add(token)
        return token
