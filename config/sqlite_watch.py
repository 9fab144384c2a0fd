"""Noticing, cheaply and without a server, that another connection committed to a SQLite file.

SQLite has no LISTEN/NOTIFY. `PRAGMA data_version` on one dedicated connection changes whenever
any other connection (of this process or another) commits to the file, and reading it costs
microseconds. A waiting loop reads it every few milliseconds; only when it moved does it run its
own probe (one indexed read) to decide whether the commit concerns it. Used to wake the event
dispatcher (engine/wakeup.py) and device command delivery (devices/delivery.py) when another
process stored events or queued commands, instead of at their next idle poll; the poll stays as
their fallback (a locked file, a failed read).
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Callable, Optional

log = logging.getLogger("ckb.sqlite_watch")
POLL_SECONDS = 0.005


def sqlite_file(url: str) -> Optional[str]:
    """The file behind a SQLite URL; None for another database or an in-memory one."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return None if not path or path == ":memory:" or "mode=memory" in path else path


class SqliteCommitWatch:
    """`wait(wake, timeout)`: returns when `wake` is set, when another connection committed and
    `probe(connection)` says it matters, or after `timeout`; clears `wake`. One thread waits at a
    time (each loop owns its watch)."""

    def __init__(self, path: str, probe: Callable[[sqlite3.Connection], bool]):
        self.path = path
        self.probe = probe
        self._conn: Optional[sqlite3.Connection] = None
        self._version: Optional[int] = None

    def wait(self, wake: threading.Event, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not wake.wait(POLL_SECONDS) and time.monotonic() < deadline:
            if self._committed_elsewhere():
                break
        wake.clear()

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _committed_elsewhere(self) -> bool:
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self.path, timeout=1, check_same_thread=False, isolation_level=None)
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
            if version == self._version:
                return False
            self._version = version
            return bool(self.probe(self._conn))
        except sqlite3.Error:  # noqa: PERF203 - e.g. a locked schema change: the caller's poll covers it
            log.debug("data_version check failed", exc_info=True)
            return False
