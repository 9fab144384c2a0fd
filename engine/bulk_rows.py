"""The dispatcher's rows (runs, steps, attempts, event outcomes) written straight through the DBAPI.

SQLAlchemy processes every parameter of an executemany in Python (type processors, parameter
dicts rebuilt per row): in the dispatcher that was a third of the worker's CPU on SQLite, ten
times the time SQLite itself spent writing the rows. On PostgreSQL, INSERT … RETURNING of a
batch became one multi-VALUES statement of a new text each time, which psycopg parsed with a
regular expression (its statement cache keeps only short texts): 40 % of a worker's profile,
why two PostgreSQL workers completed fewer events than one SQLite worker.

Here each table gets one short statement per column set, built once, and values are converted
the way SQLAlchemy's column types would store them: aware datetimes as UTC (SQLite: its text
format, `YYYY-MM-DD HH:MM:SS.ffffff`; PostgreSQL: timestamptz), JSON columns as json.dumps
text (cast to jsonb on PostgreSQL). Ids come back in row order without RETURNING: SQLite gives
consecutive rowids inside our write transaction; PostgreSQL hands out the ids from the table's
sequence first, and the rows go in with them by COPY.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import lru_cache
from operator import itemgetter
from typing import Callable

from sqlalchemy import JSON, DateTime, Table, TypeDecorator

from config.raw_writes import announce_raw_write


@lru_cache(maxsize=4096)  # a batch's rows share a handful of times (its `now`, its lease)
def _sqlite_datetime(value):
    if value is None:
        return None
    return _aware(value).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def _json(value) -> str:
    return "{}" if value == {} else json.dumps(value)  # most results and configs of a batch are empty


def _pg_datetime(value):
    return None if value is None else _aware(value)


def _aware(value: datetime) -> datetime:
    if value.utcoffset() is None:  # as the models' UTCDateTime: a naive time is a bug, not UTC
        raise ValueError("Datetime values must have timezone information.")
    return value


def _is_datetime(column) -> bool:
    kind = column.type
    return isinstance(kind, DateTime) or (isinstance(kind, TypeDecorator) and isinstance(kind.impl, DateTime))


def _is_json(column) -> bool:
    return isinstance(column.type, JSON)


class RowWriter:
    """Inserts and id-keyed updates of one table, as executemany on the connection's DBAPI cursor."""

    def __init__(self, table: Table):
        self.table = table
        self._statements: dict[tuple, tuple[str, list[Callable]]] = {}
        self._sequences: dict[str, str] = {}  # database → the id sequence of this table there

    def _converters(self, postgres: bool, names: tuple) -> tuple[list[str], list[Callable | None]]:
        marks, converters = [], []
        for name in names:
            column = self.table.c[name]
            if _is_json(column):
                marks.append("%s::jsonb" if postgres else "?")
                converters.append(_json)
            elif _is_datetime(column):
                marks.append("%s" if postgres else "?")
                converters.append(_pg_datetime if postgres else _sqlite_datetime)
            else:
                marks.append("%s" if postgres else "?")
                converters.append(None)
        return marks, converters

    def _statement(self, kind: str, postgres: bool, names: tuple, where: str = "") -> tuple[str, list]:
        key = (kind, postgres, names, where)
        built = self._statements.get(key)
        if built is None:
            marks, converters = self._converters(postgres, names)
            table = self.table.name
            if kind == "insert":
                sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(marks)})"
            else:  # update: the last name is the id, the others are set
                sets = ", ".join(f"{n} = {m}" for n, m in zip(names[:-1], marks[:-1]))
                sql = f"UPDATE {table} SET {sets} WHERE id = {marks[-1]}" + (f" AND {where}" if where else "")
            built = self._statements[key] = (sql, converters)
        return built

    @staticmethod
    def _params(rows: list[dict], names: tuple, converters: list) -> list[tuple]:
        take = itemgetter(*names)
        convert = [(i, c) for i, c in enumerate(converters) if c is not None]
        params = []
        for row in rows:
            values = list(take(row)) if len(names) > 1 else [take(row)]
            for i, c in convert:
                values[i] = c(values[i])
            params.append(tuple(values))
        return params

    def insert(self, conn, rows: list[dict], return_ids: bool = True) -> list[int]:
        """Inserts `rows` (every row with the keys of the first) in the connection's transaction;
        with `return_ids`, their ids in row order."""
        if not rows:
            return []
        postgres = conn.dialect.name == "postgresql"
        names = tuple(rows[0])
        ids: list[int] = []
        if postgres and return_ids:
            ids = self._allocate_ids(conn, len(rows))
            rows = [{**row, "id": i} for row, i in zip(rows, ids)]
            names = names + ("id",)
        sql, converters = self._statement("insert", postgres, names)
        params = self._params(rows, names, converters)
        if postgres:
            self._copy(conn, names, params)
            announce_raw_write(conn, "bulk_insert", self.table.name, len(rows), sql)
            return ids
        conn.exec_driver_sql(sql, params)
        announce_raw_write(conn, "bulk_insert", self.table.name, len(rows), sql)
        if not return_ids:
            return ids
        # SQLite: this transaction holds the only write lock and no trigger inserts into these
        # tables, so each row's rowid is one more than the one before (the largest rowid + 1,
        # also with AUTOINCREMENT) and the last is last_insert_rowid().
        last = conn.exec_driver_sql("SELECT last_insert_rowid()").scalar()
        return list(range(last - len(rows) + 1, last + 1))

    def _allocate_ids(self, conn, count: int) -> list[int]:
        database = conn.engine.url.render_as_string(hide_password=True)  # one process may hold several
        sequence = self._sequences.get(database)
        if sequence is None:
            sequence = self._sequences[database] = conn.exec_driver_sql(
                "SELECT pg_get_serial_sequence(%s, 'id')", (self.table.name,)).scalar()
        # Sorted: a run's rows keep ascending ids in the marketer's order (history lists by id).
        return sorted(conn.exec_driver_sql("SELECT nextval(%s) FROM generate_series(1, %s)",
                                           (sequence, count)).scalars())

    def _copy(self, conn, names: tuple, params: list[tuple]) -> None:
        """PostgreSQL: the rows in one COPY, inside the connection's transaction. An executemany
        of INSERTs was one statement per row for the server (and a wait on each pipeline sync):
        most of a worker's time once psycopg no longer parsed a new text per batch."""
        cursor = conn.connection.driver_connection.cursor()
        try:
            with cursor.copy(f"COPY {self.table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in params:
                    copy.write_row(row)
        finally:
            cursor.close()

    def update(self, conn, rows: list[dict], where: str = "") -> None:
        """Updates each row's columns (the keys of the first row) by its "id"; `where` is a further
        SQL condition (constants only) every updated row must meet."""
        if not rows:
            return
        postgres = conn.dialect.name == "postgresql"
        names = tuple(n for n in rows[0] if n != "id") + ("id",)  # the parameters' order in the SQL
        sql, converters = self._statement("update", postgres, names, where)
        conn.exec_driver_sql(sql, self._params(rows, names, converters))
        # The rows the `where` let through are not counted (an executemany's rowcount is not
        # reliable on every driver): the statement and the number of rows offered are logged.
        announce_raw_write(conn, "bulk_update", self.table.name, len(rows), sql)
