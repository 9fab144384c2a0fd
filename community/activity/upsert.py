"""INSERT … ON CONFLICT DO UPDATE for the rollup tables on SQLite and PostgreSQL (both dialects
spell it the same way), so concurrent rollups add to a day's counters without a read first."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite


def insert_for(session, table):
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
