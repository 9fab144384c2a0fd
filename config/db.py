"""Database factory: SQLite (WAL, BEGIN IMMEDIATE for writes, busy timeout) or PostgreSQL.

`Database.read()` opens a session whose transaction starts lazily; `Database.write()` opens
one that takes SQLite's write lock up front (BEGIN IMMEDIATE), so two writers queue on the
busy timeout instead of failing half-way with "database is locked" on upgrade.
"""
from __future__ import annotations

import fcntl
import os
import re
import threading
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, create_engine

from config.settings import Settings
from config.sql_sandbox import SqlSandboxConfig

SQLITE_BUSY_TIMEOUT_MS = 30_000
# Set-based services report how many rows an INSERT … SELECT touched; without this SQLAlchemy
# answers -1 for INSERTs on psycopg (measured), so counts and logs on PostgreSQL would be wrong.
ROWCOUNT = {"preserve_rowcount": True}


@lru_cache(maxsize=256)
def _compiled(pattern: str):
    return re.compile(pattern)


def _regexp(pattern, value) -> bool:
    if value is None or pattern is None:
        return False
    try:
        return _compiled(pattern).search(str(value)) is not None
    except re.error:
        return False


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()
        # SQLite parses `x REGEXP y` but ships no implementation; audiences use it for 正则匹配.
        dbapi_conn.create_function("regexp", 2, _regexp, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = "IMMEDIATE" if conn.get_execution_options().get("ckb_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


class WriteQueue:
    """Writers to one SQLite file wait here, in arrival order, instead of in SQLite's busy handler.

    SQLite's busy handler polls: a writer that finds the lock taken sleeps 1, 2, 5 … up to
    100 ms before trying again, so under load most of a request's time was spent asleep while
    the lock was already free (measured in bench/ingest.py: a quarter of all ingest samples sat
    in BEGIN IMMEDIATE). Here threads queue on a lock and processes on flock(2) of a lock file
    beside the database; both wake the next writer the moment the lock is released. SQLite's
    own lock stays the truth (other programs still use the busy timeout); this only orders
    our writers in front of it. A nested write() in the same thread passes through.
    """

    def __init__(self, db_path: str):
        self.path = db_path + ".write-lock"
        self._pid = None
        self._lock: Optional[threading.Lock] = None
        self._fd: Optional[int] = None
        self._local = threading.local()
        self._setup = threading.Lock()

    def _for_this_process(self):
        # flock belongs to the open file description: each process (gunicorn forks) opens its own.
        if self._pid != os.getpid():
            with self._setup:
                if self._pid != os.getpid():
                    self._lock = threading.Lock()
                    self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                    self._pid = os.getpid()
        return self._lock, self._fd

    @contextmanager
    def hold(self) -> Iterator[None]:
        if getattr(self._local, "held", False):
            yield
            return
        lock, fd = self._for_this_process()
        with lock:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._local.held = True
            try:
                yield
            finally:
                self._local.held = False
                fcntl.flock(fd, fcntl.LOCK_UN)


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            execution_options=ROWCOUNT,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=16,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_size=10, max_overflow=20, pool_pre_ping=True, execution_options=ROWCOUNT)


class Database:
    def __init__(self, url: str, echo: bool = False, sandbox: Optional[SqlSandboxConfig] = None):
        self.url = url
        self.sandbox = sandbox or SqlSandboxConfig()
        self.engine = make_engine(url, echo=echo)
        self._write_engine = self.engine.execution_options(ckb_write=True)
        path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
        self._queue = WriteQueue(path) if path and path != ":memory:" and "mode=memory" not in path else None

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        return cls(settings.resolved_database_url(), sandbox=SqlSandboxConfig.from_settings(settings))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any exception (nothing half-written)."""
        with self.write_turn(), Session(self._write_engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """`write()` for Core statements only: a connection in a write transaction without an ORM
        Session around it (cheaper for a hot path that flushes no objects), committed on success,
        rolled back on any exception."""
        with self.write_turn(), self._write_engine.begin() as conn:
            yield conn

    def holds_write_turn(self) -> bool:
        """This thread is inside a write() (SQLite file databases): another thread's write would
        wait for it."""
        return self._queue is not None and getattr(self._queue._local, "held", False)

    def write_turn(self):
        """This thread's turn to write (SQLite file databases); a no-op on PostgreSQL."""
        return self._queue.hold() if self._queue is not None else nullcontext()

    def dispose(self) -> None:
        self.engine.dispose()
