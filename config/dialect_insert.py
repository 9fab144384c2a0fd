"""INSERT … ON CONFLICT for the database in use: SQLite and PostgreSQL spell it the same way in
SQLAlchemy, but through their own dialect's `insert`, so callers ask here for the right one."""
from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session


def insert_for(session: Session):
    """The dialect `insert` construct (with .on_conflict_do_update / _do_nothing) of `session`'s database."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
