"""Cross-process wake-up of command delivery on PostgreSQL: LISTEN/NOTIFY.

A command issued in a worker process used to reach the web process holding the phone only at its
next database poll (every 0.5 s). On PostgreSQL the transaction that queues a command also runs
NOTIFY (devices.commands; delivered at commit, dropped on rollback), and each process delivering
to phones LISTENs on one connection of its own and wakes its delivery loop the moment a
notification arrives. The poll stays as the fallback (a lost listener connection, SQLite).
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

from sqlalchemy import text

log = logging.getLogger("ckb.devices.wakeup")
CHANNEL = "ckb_device_commands"
NOTIFY = text(f"NOTIFY {CHANNEL}")
RECONNECT_SECONDS = 1.0


def notify_in_transaction(session) -> None:
    """Once per transaction that queues commands, on PostgreSQL only (PostgreSQL folds identical
    notifications of one transaction anyway; this saves the statements)."""
    if session.info.get("ckb_wakeup_sent") or session.get_bind().dialect.name != "postgresql":
        return
    session.info["ckb_wakeup_sent"] = True
    session.execute(NOTIFY)


def forget_transaction(session) -> None:
    session.info.pop("ckb_wakeup_sent", None)


def _libpq_url(engine) -> str:
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class PgListener:
    """LISTENs on its own autocommit connection and calls `wake` on every notification."""

    def __init__(self, engine, wake: Callable[[], None]):
        self.url = _libpq_url(engine)
        self.wake = wake
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.ready = threading.Event()  # set once LISTEN is in place (tests wait for it)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ckb-command-listen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.ready.set()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.wake()
            except Exception:  # noqa: BLE001 - the poll covers the gap; try again shortly
                self.ready.clear()
                log.warning("command wake-up listener lost its connection; retrying", exc_info=True)
                self._stop.wait(RECONNECT_SECONDS)


def listener_for(services, wake: Callable[[], None]) -> Optional[PgListener]:
    engine = services.db.engine
    return PgListener(engine, wake) if engine.dialect.name == "postgresql" else None
