"""INSERT … ON CONFLICT for the database in use: SQLite and PostgreSQL spell it the same way in
SQLAlchemy, but through their own dialect's `insert`, so callers ask here for the right one."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite


def insert_for(bind):
    """The dialect `insert` construct (with .on_conflict_do_update / _do_nothing) for a Session or a
    Connection on SQLite or PostgreSQL."""
    dialect = bind.dialect if hasattr(bind, "dialect") else bind.get_bind().dialect
    if dialect.name == "postgresql":
        return postgresql.insert
    if dialect.name == "sqlite":
        return sqlite.insert
    raise RuntimeError(f"unsupported database: {dialect.name}")  # only SQLite and PostgreSQL are supported
