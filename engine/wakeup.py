"""Waking the dispatcher when another process stores events, instead of at its next poll.

A web process storing events wakes the dispatcher in its own process directly (Ingestor's
on_stored); a separate `cunkebao worker` used to find them only at its next idle poll (0.5 s),
so under a light load most of an immediate step's latency was that sleep. Now:

- PostgreSQL: migration 0038 makes every INSERT statement on event_record NOTIFY
  `ckb_events_stored` (delivered at commit, dropped on rollback); a thread of the worker LISTENs
  on a connection of its own and wakes the dispatch loop.
- SQLite: `PRAGMA data_version` read every few milliseconds (config/sqlite_watch.py); when it
  moved, a one-row read tells whether an event is waiting. Only then is a claim (a write
  transaction) tried.

The idle poll stays as the fallback (a lost listener connection, expired claims).
"""

from __future__ import annotations

import threading
from typing import Optional

from config.pg_listen import PgListener
from config.sqlite_watch import SqliteCommitWatch, sqlite_file

CHANNEL = "ckb_events_stored"
_PENDING = "SELECT 1 FROM event_record WHERE dispatch_status = 'pending' LIMIT 1"


def _events_pending(conn) -> bool:
    return conn.execute(_PENDING).fetchone() is not None


class EventsStoredSignal:
    """`wait(timeout)` returns when `wake` is set (this process stored events, or stop), when
    another process stored events, or after `timeout`."""

    def __init__(self, db, wake: threading.Event):
        self.db = db
        self.wake = wake
        path = sqlite_file(db.url)
        self._sqlite: Optional[SqliteCommitWatch] = SqliteCommitWatch(path, _events_pending) if path else None
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

    def wait(self, timeout: float) -> None:
        if self._sqlite is None:
            self.wake.wait(timeout)
            self.wake.clear()
        else:
            self._sqlite.wait(self.wake, timeout)
