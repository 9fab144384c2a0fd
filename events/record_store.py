"""Writing event_record rows at the driver level: the statements are built once per database, the
values go to the raw sqlite3 / psycopg connection of the caller's transaction.

Through SQLAlchemy Core, binding the rows took most of a batch's storage time (parameter dicts,
per-value type processors, and on PostgreSQL the "insertmanyvalues" batching: one statement
text with 500 × 17 placeholders that psycopg then re-parsed in Python for every request, since
it only caches short queries — a batch of 500 events took about 0.35 s there). Here:

- SQLite: multi-row `INSERT … VALUES (…), (…) ON CONFLICT (dedupe_key) DO NOTHING RETURNING`,
  in chunks of a few fixed sizes, so sqlite3's statement cache holds every text it needs;
- PostgreSQL: one short statement whatever the number of rows, the rows sent as one JSON
  document and unpacked by `jsonb_to_recordset` (psycopg prepares it after a few uses; the
  statement-level NOTIFY trigger fires once per statement).

Values are converted with SQLAlchemy's own bind processors for each column (the same text for
datetimes on SQLite, the same JSON, UTC datetimes), so rows read back exactly as rows written by
the ORM.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from operator import itemgetter

from config.raw_writes import announce_raw_write
from events.models import EventRecord

TABLE = EventRecord.__table__
# Every column the ingestion path sets (id, claimed_until and dispatched_at stay NULL).
COLUMNS = ("app_id", "source", "event_code", "event_definition_id", "external_id", "dedupe_key", "occurred_at",
           "received_at", "data", "status", "reject_reason", "errors", "dispatch_status", "matched_count", "outcome",
           "outcome_note", "client_ip")
# For a row built elsewhere without some column: its scalar default, or NULL when it may be NULL.
DEFAULTS = {name: (TABLE.c[name].default.arg if TABLE.c[name].default is not None and TABLE.c[name].default.is_scalar
                   else None)
            for name in COLUMNS if TABLE.c[name].nullable or (TABLE.c[name].default is not None
                                                             and TABLE.c[name].default.is_scalar)}
INSERT_SUMMARY = f"INSERT INTO {TABLE.name} ({', '.join(COLUMNS)})"  # what the operation log shows
SQLITE_CHUNKS = (256, 64, 16, 4, 1)  # rows per statement: few distinct texts, few statements
_WRITERS: dict = {}  # dialect name → its writer


def writer_for(conn) -> "_Writer":
    """The writer for a SQLAlchemy Connection's database (built once per dialect)."""
    name = conn.dialect.name
    writer = _WRITERS.get(name)
    if writer is None:
        writer = _WRITERS[name] = (_PostgresWriter if name == "postgresql" else _SqliteWriter)(conn.dialect)
    return writer


def raw_cursor(conn):
    """A DBAPI cursor on the connection of the caller's SQLAlchemy transaction (already begun)."""
    return conn.connection.driver_connection.cursor()


class _Writer(ABC):
    """The public calls announce what they wrote (config/raw_writes.py); each database's writer
    supplies the two statements."""

    def insert_new(self, conn, rows: list[dict]) -> list[tuple[int, str]]:
        """Inserts rows whose dedupe keys are distinct; (id, dedupe_key) of those stored (a key
        already in the table stores nothing)."""
        stored = self._insert_new(conn, rows)
        announce_raw_write(conn, "bulk_insert", TABLE.name, len(stored), INSERT_SUMMARY)
        return stored

    def insert_one(self, conn, row: dict) -> int:
        """Inserts a row without a dedupe key (a refused event); its id."""
        new_id = self._insert_one(conn, row)
        announce_raw_write(conn, "bulk_insert", TABLE.name, 1, INSERT_SUMMARY)
        return new_id

    @abstractmethod
    def _insert_new(self, conn, rows: list[dict]) -> list[tuple[int, str]]:
        """The database's multi-row insert (see insert_new)."""

    @abstractmethod
    def _insert_one(self, conn, row: dict) -> int:
        """The database's one-row insert (see insert_one)."""


class _SqliteWriter(_Writer):
    def __init__(self, dialect):
        processors = [TABLE.c[name].type._cached_bind_processor(dialect) for name in COLUMNS]
        # Only the columns with a conversion are visited per row (datetimes and JSON).
        self._converted = tuple((i, proc) for i, proc in enumerate(processors) if proc is not None)
        self._getter = itemgetter(*COLUMNS)
        cols = ", ".join(COLUMNS)
        one = "(" + ", ".join("?" * len(COLUMNS)) + ")"
        self._new = {n: f"INSERT INTO event_record ({cols}) VALUES {', '.join([one] * n)} "
                        f"ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key" for n in SQLITE_CHUNKS}
        self._one = f"INSERT INTO event_record ({cols}) VALUES {one} RETURNING id"

    def values(self, rows: list[dict]) -> list[list]:
        """Each row's column values, converted for the driver. Datetimes repeat (every row of a
        request has the same received_at): the last conversion of each column is reused."""
        get = self._getter
        converted = self._converted
        memo = [(None, None)] * len(COLUMNS)
        out = []
        for row in rows:
            try:
                vals = list(get(row))
            except KeyError:
                vals = list(get(DEFAULTS | row))
            for i, proc in converted:
                value = vals[i]
                if value is not None:
                    last = memo[i]
                    if last[0] is value:
                        vals[i] = last[1]
                    else:
                        vals[i] = proc(value)
                        memo[i] = (value, vals[i])
            out.append(vals)
        return out

    def _insert_new(self, conn, rows):
        values = self.values(rows)
        cur = raw_cursor(conn)
        stored = []
        start = 0
        try:
            for size in SQLITE_CHUNKS:
                while len(values) - start >= size:
                    flat = [v for row in values[start:start + size] for v in row]
                    stored += cur.execute(self._new[size], flat).fetchall()
                    start += size
        finally:
            cur.close()
        return stored

    def _insert_one(self, conn, row):
        cur = raw_cursor(conn)
        try:
            return cur.execute(self._one, self.values([row])[0]).fetchone()[0]
        finally:
            cur.close()


class _PostgresWriter(_Writer):
    """All rows travel as one JSON document, unpacked by jsonb_to_recordset: one short statement
    (prepared by psycopg after a few uses), one parameter encoded by the C JSON encoder. Column
    arrays were tried first: psycopg escapes each element of a text array in Python, a third of
    a batch's time."""

    def __init__(self, dialect):
        self._datetimes = tuple(name for name in COLUMNS if TABLE.c[name].type._type_affinity.__name__ == "DateTime")
        self._utc = {name: TABLE.c[name].type._cached_bind_processor(dialect) for name in self._datetimes}
        cols = ", ".join(COLUMNS)
        record = ", ".join(f"{name} {_pg_type(TABLE.c[name])}" for name in COLUMNS)
        self._new = (f"INSERT INTO event_record ({cols}) SELECT {cols} FROM jsonb_to_recordset(%s::jsonb) AS r({record}) "
                     f"ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key")
        self._one = f"INSERT INTO event_record ({cols}) SELECT {cols} FROM jsonb_to_recordset(%s::jsonb) AS r({record}) RETURNING id"

    def document(self, rows: list[dict]) -> str:
        """The rows as one JSON array, datetimes in UTC ISO-8601 (read back by timestamptz's input)."""
        memo: dict = {}
        out = []
        for row in rows:
            row = DEFAULTS | row
            for name in self._datetimes:
                value = row.get(name)
                if value is not None:
                    last = memo.get(name)
                    if last is None or last[0] is not value:
                        last = memo[name] = (value, self._utc[name](value).isoformat())
                    row[name] = last[1]
            out.append(row)
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))

    def _insert_new(self, conn, rows):
        with raw_cursor(conn) as cur:
            cur.execute(self._new, (self.document(rows),))
            return cur.fetchall()

    def _insert_one(self, conn, row):
        with raw_cursor(conn) as cur:
            cur.execute(self._one, (self.document([row]),))
            return cur.fetchone()[0]


def _pg_type(column) -> str:
    affinity = column.type._type_affinity.__name__
    if affinity == "JSON":
        return "jsonb"
    if affinity == "DateTime":
        return "timestamptz" if column.type.timezone else "timestamp"
    if affinity == "Integer":
        return "bigint"  # assigned to integer columns with PostgreSQL's own range check
    if affinity == "String":
        return "text"
    raise TypeError(f"event_record.{column.name}: no PostgreSQL type for {column.type!r}")
