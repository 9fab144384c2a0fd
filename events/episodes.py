"""Alert episodes: a condition watched over time (dead letters piling up, callbacks refused, a group
gone quiet) raises its event once when it starts and stays quiet while it lasts; when it clears the
episode closes and the next time it starts is a new episode with a new event.

One AlertState row per (key, subject) — e.g. ("lead.deadletter_piling", "all") or
("group.inactive", "group:12") — flips open/closed with a conditional UPDATE, so two schedulers
racing (or a job retried after a crash) open an episode once. The caller emits its event in the
same transaction, keyed by the episode number, which makes the event idempotent too."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import UniqueConstraint, update
from sqlmodel import Field, Session, SQLModel, select

from config.clock import utcnow
from config.dialect_insert import insert_for


class AlertState(SQLModel, table=True):
    __tablename__ = "alert_state"
    __table_args__ = (UniqueConstraint("key", "subject", name="uq_alert_state_subject"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)  # the event code it raises
    subject: str = Field(max_length=100)  # what it is about: "all", "scene:3", "group:12"
    is_open: bool = False
    episodes: int = 0  # how many episodes have opened so far (the current one's number when open)
    opened_at: Optional[datetime] = None
    closed_at: Optional[datetime] = None
    last_value: float = 0
    last_checked_at: Optional[datetime] = None


def track(session: Session, key: str, subject: str, active: bool, value: float = 0,
          now: Optional[datetime] = None) -> Optional[int]:
    """Records one observation; returns the new episode's number when this observation opened one
    (emit the event then, with the number in its id), else None."""
    now = now or utcnow()
    session.execute(insert_for(session)(AlertState.__table__).values(
        key=key, subject=subject, is_open=False, episodes=0, last_value=value, last_checked_at=now)
        .on_conflict_do_nothing(index_elements=["key", "subject"]))
    table = AlertState.__table__
    where = (table.c.key == key) & (table.c.subject == subject)
    if active:
        opened = session.execute(update(table).where(where, table.c.is_open.is_(False)).values(
            is_open=True, episodes=table.c.episodes + 1, opened_at=now, closed_at=None, last_value=value,
            last_checked_at=now).returning(table.c.episodes)).scalar()
        if opened is None:
            session.execute(update(table).where(where).values(last_value=value, last_checked_at=now))
        return opened
    session.execute(update(table).where(where, table.c.is_open.is_(True)).values(is_open=False, closed_at=now))
    session.execute(update(table).where(where).values(last_value=value, last_checked_at=now))
    return None


def open_alerts(session: Session, key_prefix: str = "") -> list[AlertState]:
    query = select(AlertState).where(AlertState.is_open.is_(True))
    if key_prefix:
        query = query.where(AlertState.key.startswith(key_prefix))
    return list(session.exec(query.order_by(AlertState.opened_at.desc())).all())
