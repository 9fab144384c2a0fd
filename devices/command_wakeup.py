"""Cross-process wake-up of command delivery: LISTEN/NOTIFY on PostgreSQL, data_version on SQLite.

A command issued in a worker process used to reach the web process holding the phone only at its
next database poll (every 0.5 s). On PostgreSQL the transaction that queues a command also runs
NOTIFY (devices.commands; delivered at commit, dropped on rollback), and each process delivering
to phones LISTENs on one connection of its own and wakes its delivery loop the moment a
notification arrives. On SQLite the delivery loop watches the file's `PRAGMA data_version`
every few milliseconds (config/sqlite_watch.py) and, when another connection committed, reads
the highest command id: a new one wakes delivery. The poll stays as the fallback (a lost
listener connection, a locked file, a command that only became due with time).
"""
from __future__ import annotations

from typing import Callable, Optional

from sqlalchemy import text

from config.pg_listen import PgListener
from config.sqlite_watch import SqliteCommitWatch, sqlite_file

CHANNEL = "ckb_device_commands"
NOTIFY = text(f"NOTIFY {CHANNEL}")
_NEWEST = "SELECT max(id) FROM device_command"


def notify_in_transaction(session) -> None:
    """Once per transaction that queues commands, on PostgreSQL only (PostgreSQL folds identical
    notifications of one transaction anyway; this saves the statements)."""
    if session.info.get("ckb_wakeup_sent") or session.get_bind().dialect.name != "postgresql":
        return
    session.info["ckb_wakeup_sent"] = True
    session.execute(NOTIFY)


def forget_transaction(session) -> None:
    session.info.pop("ckb_wakeup_sent", None)


def listener_for(services, wake: Callable[[], None]) -> Optional[PgListener]:
    engine = services.db.engine
    if engine.dialect.name != "postgresql":
        return None
    return PgListener(engine, CHANNEL, wake, thread_name="ckb-command-listen")


def sqlite_watch_for(services) -> Optional[SqliteCommitWatch]:
    path = sqlite_file(services.db.url)
    return SqliteCommitWatch(path, _NewCommands()) if path else None


class _NewCommands:
    """The probe: true when a command was queued since the last look (by its id; the first look
    counts, so a loop starting up delivers at once)."""

    def __init__(self):
        self.newest: Optional[int] = -1

    def __call__(self, conn) -> bool:
        newest = conn.execute(_NEWEST).fetchone()[0]
        moved, self.newest = newest != self.newest, newest
        return moved
