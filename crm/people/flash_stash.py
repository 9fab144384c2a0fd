"""Flash messages ("已保存客户「张三」") kept server-side between a form post and the next page.

Flask keeps them in the session cookie, which is signed but readable by anyone holding it; the
messages may name customers, staff or phone numbers, so the cookie carries only a random
reference to a row here. A reference is used once; rows nobody came back for are dropped after
a day.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Optional

from sqlmodel import col, delete, select

from config.clock import as_utc, utcnow
from config.db import Database
from crm.people.models import StashedFlash
from crm.people.tokens import digest

KEEP = timedelta(days=1)



def stash(db: Database, messages: list, now: Optional[datetime] = None) -> str:
    """Stores `messages` ([(category, text), …]); returns the reference for the cookie."""
    now = as_utc(now or utcnow())
    ref = secrets.token_urlsafe(24)
    with db.write() as session:
        session.exec(delete(StashedFlash).where(col(StashedFlash.created_at) < now - KEEP))
        session.add(StashedFlash(ref_hash=digest(ref), messages=[list(m) for m in messages],
                                 created_at=now))
    return ref


def load(db: Database, ref: str) -> list:
    """The messages behind `ref` ([] when unknown or already shown)."""
    if not isinstance(ref, str) or not ref or len(ref) > 100:
        return []
    with db.read() as session:
        row = session.exec(select(StashedFlash).where(StashedFlash.ref_hash == digest(ref))).first()
    return [tuple(m) for m in row.messages] if row else []


def drop(db: Database, ref: str) -> None:
    if not isinstance(ref, str) or not ref:
        return
    with db.write() as session:
        session.exec(delete(StashedFlash).where(StashedFlash.ref_hash == digest(ref)))
