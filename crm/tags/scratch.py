"""Scratch id sets for set-based tag work: the customers a rule matches tonight, the links that
are new, the links that went away. They are temporary tables on the session's own connection,
so a million ids never travel through Python twice and every step is one INSERT … SELECT.

Callers must be inside a transaction (a `db.write()` session): SQLite keeps the connection for
the whole transaction, and PostgreSQL drops the table at commit (ON COMMIT DROP).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

from sqlalchemy import column, insert, table, text
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import TableClause
from sqlmodel import Session

CHUNK = 10_000


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@contextmanager
def scratch(session: Session, name: str, columns: Sequence[str] = ("customer_id",)) -> Iterator[TableClause]:
    """A temporary table of integer columns whose primary key is all of them (no duplicates)."""
    pg = _is_postgres(session)
    kind = "BIGINT" if pg else "INTEGER"
    cols = ", ".join(f"{c} {kind} NOT NULL" for c in columns)
    # A failed earlier run on this pooled SQLite connection may have left the table behind.
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    suffix = " ON COMMIT DROP" if pg else ""
    session.execute(text(f"CREATE TEMP TABLE {name} ({cols}, PRIMARY KEY ({', '.join(columns)})){suffix}"))
    tbl = table(name, *(column(c) for c in columns))
    try:
        yield tbl
    finally:
        if not pg:
            session.execute(text(f"DROP TABLE IF EXISTS {name}"))


def fill_ids(session: Session, tbl: TableClause, ids: Iterable[int]) -> None:
    """Loads ids (duplicates ignored) in executemany chunks."""
    if _is_postgres(session):
        stmt = text(f"INSERT INTO {tbl.name} (customer_id) VALUES (:id) ON CONFLICT DO NOTHING")
    else:
        stmt = text(f"INSERT OR IGNORE INTO {tbl.name} (customer_id) VALUES (:id)")
    batch: list[dict] = []
    for value in ids:
        batch.append({"id": int(value)})
        if len(batch) >= CHUNK:
            session.execute(stmt, batch)
            batch = []
    if batch:
        session.execute(stmt, batch)


def fill_select(session: Session, tbl: TableClause, stmt: Select, names: Sequence[str] = ("customer_id",),
                ignore_duplicates: bool = False) -> int:
    """INSERT INTO tbl SELECT …; returns the rows inserted."""
    if ignore_duplicates and _is_postgres(session):
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        ins = pg_insert(tbl).from_select(list(names), stmt).on_conflict_do_nothing()
    else:
        ins = insert(tbl).from_select(list(names), stmt)
        if ignore_duplicates:
            ins = ins.prefix_with("OR IGNORE", dialect="sqlite")
    return session.execute(ins).rowcount or 0


def clear(session: Session, tbl: TableClause) -> None:
    session.execute(text(f"DELETE FROM {tbl.name}"))


def count(session: Session, tbl: TableClause) -> int:
    return int(session.execute(text(f"SELECT COUNT(*) FROM {tbl.name}")).scalar() or 0)
