"""站内通知: messages to console users (a dead letter appeared, an import finished), with the
unread count shown as a badge in the top bar."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from sqlmodel import col, func, select, update

from config.clock import as_utc, utcnow
from config.db import Database
from crm.people.errors import PeopleError
from crm.people.models import Notification, Role, User, UserRole


def _check_link(link: str) -> str:
    link = (link or "").strip()
    # Only in-site paths: a notification must never become a javascript: or phishing link.
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link):
        raise PeopleError("通知链接必须是以 / 开头的站内路径", "link")
    return link


def notify(db: Database, user_id: int, title: str, body: str = "", link: str = "",
           source: str = "", now: Optional[datetime] = None) -> Notification:
    title = (title or "").strip()
    if not title:
        raise PeopleError("通知标题不能为空", "title")
    note = Notification(user_id=user_id, title=title[:200], body=(body or "")[:5000],
                        link=_check_link(link), source=(source or "")[:64],
                        created_at=as_utc(now or utcnow()))
    with db.write() as session:
        session.add(note)
    return note


def users_with_permission(db: Database, permission: str) -> list[int]:
    """Ids of enabled users holding `permission` (admins hold all)."""
    with db.read() as session:
        users = session.exec(select(User).where(User.enabled == True)).all()  # noqa: E712
        links = session.exec(select(UserRole.user_id, Role.permissions)
                             .join(Role, Role.id == UserRole.role_id)).all()
    holders = {uid for uid, perms in links if permission in (perms or [])}
    return [u.id for u in users if u.is_admin or u.id in holders]


def notify_permission(db: Database, permission: str, title: str, body: str = "", link: str = "",
                      source: str = "", now: Optional[datetime] = None) -> int:
    """Notifies every user who can act on it (e.g. deadletters.manage); returns how many."""
    ids = users_with_permission(db, permission)
    for user_id in ids:
        notify(db, user_id, title, body, link, source, now)
    return len(ids)


def unread_count(db: Database, user_id: int) -> int:
    with db.read() as session:
        return session.exec(select(func.count()).select_from(Notification).where(
            Notification.user_id == user_id, Notification.read == False)).one()  # noqa: E712


def list_notifications(db: Database, user_id: int, unread_only: bool = False,
                       limit: int = 20, offset: int = 0) -> tuple[list[Notification], int]:
    """One page of the user's notifications, newest first, and the total count."""
    where = [Notification.user_id == user_id]
    if unread_only:
        where.append(Notification.read == False)  # noqa: E712
    with db.read() as session:
        total = session.exec(select(func.count()).select_from(Notification).where(*where)).one()
        rows = session.exec(select(Notification).where(*where)
                            .order_by(Notification.created_at.desc(), Notification.id.desc())
                            .offset(offset).limit(limit)).all()
    return list(rows), total


def mark_read(db: Database, user_id: int, ids: Optional[Iterable[int]] = None) -> int:
    """Marks the given notifications (all of the user's when `ids` is None) read."""
    stmt = update(Notification).where(Notification.user_id == user_id,
                                      Notification.read == False)  # noqa: E712
    if ids is not None:
        ids = [int(i) for i in ids]
        if not ids:
            return 0
        stmt = stmt.where(col(Notification.id).in_(ids))
    with db.write() as session:
        return session.exec(stmt.values(read=True)).rowcount
