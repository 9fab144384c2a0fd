"""Cross-process wake-up of command delivery on PostgreSQL: LISTEN/NOTIFY.

A command issued in a worker process used to reach the web process holding the phone only at its
next database poll (every 0.5 s). On PostgreSQL the transaction that queues a command also runs
NOTIFY (devices.commands; delivered at commit, dropped on rollback), and each process delivering
to phones LISTENs on one connection of its own and wakes its delivery loop the moment a
notification arrives. The poll stays as the fallback (a lost listener connection, SQLite).
"""
from __future__ import annotations

from typing import Callable, Optional

from sqlalchemy import text

from config.pg_listen import PgListener

CHANNEL = "ckb_device_commands"
NOTIFY = text(f"NOTIFY {CHANNEL}")


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
