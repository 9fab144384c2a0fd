"""Waking the dispatcher when another process stores events, instead of at its next poll.

A web process storing events wakes the dispatcher in its own process directly (Ingestor's
on_stored); a separate `cunkebao worker` used to find them only at its next idle poll (0.5 s),
so under a light load most of an immediate step's latency was that sleep. Now:

- PostgreSQL: migration 0038 makes every INSERT statement on event_record NOTIFY
  `ckb_events_stored` (delivered at commit, dropped on rollback); a thread of the worker LISTENs
  on a connection of its own and wakes the dispatch loop.
- SQLite: `PRAGMA data_version` on one dedicated connection changes whenever another connection
  commits; read every few milliseconds (microseconds each), and when it moved, a one-row read
  tells whether an event is waiting. Only then is a claim (a write transaction) tried.

The idle poll stays as the fallback (a lost listener connection, expired claims).
"""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import Optional

from config.pg_listen import PgListener

log = logging.getLogger("ckb.wakeup")
CHANNEL = "ckb_events_stored"
SQLITE_POLL_SECONDS = 0.005
_PENDING = "SELECT 1 FROM event_record WHERE dispatch_status = 'pending' LIMIT 1"


class EventsStoredSignal:
    """`wait(timeout)` returns when `wake` is set (this process stored events, or stop), when
    another process stored events, or after `timeout`."""

    def __init__(self, db, wake: threading.Event):
        self.db = db
        self.wake = wake
        self._sqlite_path = _sqlite_file(db.url)
        self._sqlite: Optional[sqlite3.Connection] = None
        self._version: Optional[int] = None
        self._listener = PgListener(db.engine, CHANNEL, wake.set, thread_name="ckb-events-listen") if db.is_postgres else None
        # PostgreSQL: LISTEN is in place (tests wait for it)
        self.listening = self._listener.ready if self._listener is not None else threading.Event()

    def start(self) -> None:
        if self._listener is not None:
            self._listener.start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
        if self._sqlite is not None:
            self._sqlite.close()
            self._sqlite = None

    def wait(self, timeout: float) -> None:
        if self._sqlite_path is None:
            self.wake.wait(timeout)
        else:
            deadline = time.monotonic() + timeout
            while not self.wake.wait(SQLITE_POLL_SECONDS) and time.monotonic() < deadline:
                if self._events_waiting():
                    break
        self.wake.clear()

    # -- SQLite ---------------------------------------------------------------------------------
    def _events_waiting(self) -> bool:
        try:
            if self._sqlite is None:
                self._sqlite = sqlite3.connect(self._sqlite_path, timeout=1, check_same_thread=False,
                                               isolation_level=None)
            version = self._sqlite.execute("PRAGMA data_version").fetchone()[0]
            if version == self._version:
                return False
            self._version = version
            return self._sqlite.execute(_PENDING).fetchone() is not None
        except sqlite3.Error:  # noqa: PERF203 - e.g. locked schema change: the poll covers it
            log.debug("data_version check failed", exc_info=True)
            return False


def _sqlite_file(url: str) -> Optional[str]:
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1]
    return None if not path or path == ":memory:" or "mode=memory" in path else path
