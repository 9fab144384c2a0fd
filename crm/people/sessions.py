"""Console sign-in sessions, kept server-side so they can be ended.

The browser's cookie carries only a random token; the row found by its SHA-256 decides whether
the sign-in is still live. Logging out revokes that row, so a copied cookie dies with it; a
password change, an admin's password reset and disabling the account revoke all of the user's
rows (see users.py), and an admin can end any one of them from 用户管理.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlmodel import Session, col, delete, select, update

from config.clock import as_utc, utcnow
from config.db import Database
from crm.people.errors import PeopleError
from crm.people.models import AuthSession
from crm.people.tokens import digest

# Recording every request would turn each page view into a write; a minute's precision is enough
# for "last seen" and for the idle timeout.
LAST_SEEN_PRECISION = timedelta(minutes=1)
# Revoked or idle rows are kept this long for the admin's list, then dropped at the next sign-in.
KEEP_ENDED = timedelta(days=30)



def start_session(db: Database, user_id: int, ip: str = "", user_agent: str = "",
                  now: Optional[datetime] = None) -> str:
    """A new live session for `user_id`; returns the token for the cookie (stored only hashed)."""
    now = as_utc(now or utcnow())
    token = secrets.token_urlsafe(32)
    with db.write() as session:
        session.exec(delete(AuthSession).where(AuthSession.user_id == user_id,
                                               col(AuthSession.last_seen_at) < now - KEEP_ENDED))
        session.add(AuthSession(user_id=user_id, token_hash=digest(token), created_at=now,
                                last_seen_at=now, ip=(ip or "")[:64], user_agent=(user_agent or "")[:200]))
    return token


def resolve_session(db: Database, token: str, now: Optional[datetime] = None,
                    idle: Optional[timedelta] = None) -> Optional[AuthSession]:
    """The live session behind `token` (one indexed lookup), or None when unknown, revoked or
    idle longer than `idle`."""
    if not token or len(token) > 100:
        return None
    now = as_utc(now or utcnow())
    with db.read() as session:
        row = session.exec(select(AuthSession).where(AuthSession.token_hash == digest(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    last = as_utc(row.last_seen_at)
    if idle is not None and now - last > idle:
        return None
    if now - last >= LAST_SEEN_PRECISION:
        with db.write() as session:
            session.exec(update(AuthSession).where(AuthSession.id == row.id).values(last_seen_at=now))
    return row


def end_session(db: Database, token: str, now: Optional[datetime] = None) -> None:
    """Logout: the token's row is revoked (a no-op for an unknown token)."""
    if not token:
        return
    with db.write() as session:
        session.exec(update(AuthSession).where(AuthSession.token_hash == digest(token),
                                               col(AuthSession.revoked_at).is_(None))
                     .values(revoked_at=as_utc(now or utcnow())))


def revoke_user_sessions(session: Session, user_id: int, now: Optional[datetime] = None) -> int:
    """Inside the caller's write transaction (password change, reset, disable): every live
    session of the user ends; answers how many."""
    result = session.exec(update(AuthSession).where(AuthSession.user_id == user_id,
                                                    col(AuthSession.revoked_at).is_(None))
                          .values(revoked_at=as_utc(now or utcnow())))
    return result.rowcount or 0


def list_sessions(db: Database, user_id: int, now: Optional[datetime] = None, idle: Optional[timedelta] = None,
                  limit: int = 50) -> list[tuple[AuthSession, str]]:
    """The user's sessions, newest first, each with its state for 用户管理: "online" (live),
    "revoked" (ended by logout, password change, disable or an admin) or "expired" (idle)."""
    now = as_utc(now or utcnow())
    with db.read() as session:
        stmt = (select(AuthSession).where(AuthSession.user_id == user_id)
                .order_by(col(AuthSession.id).desc()).limit(limit))
        rows = list(session.exec(stmt).all())
    return [(row, "revoked" if row.revoked_at is not None
             else "expired" if idle is not None and now - as_utc(row.last_seen_at) > idle else "online")
            for row in rows]


def revoke_session(db: Database, user_id: int, session_id: int, now: Optional[datetime] = None) -> AuthSession:
    """An admin ends one session of `user_id` (another user's session counts as not found)."""
    with db.write() as session:
        row = session.get(AuthSession, session_id)
        if row is None or row.user_id != user_id:
            raise PeopleError("登录会话不存在")
        if row.revoked_at is None:
            row.revoked_at = as_utc(now or utcnow())
            session.add(row)
        return row
