"""One PostgreSQL LISTEN loop for the cross-process wake-ups (events stored → dispatcher, device
command queued → the gateway holding the phone): a thread on its own autocommit connection calls
`wake` on every notification of its channel and reconnects after a lost connection. Whoever
listens keeps a poll as the fallback for the gap.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Optional

log = logging.getLogger("ckb.pg_listen")
RECONNECT_SECONDS = 1.0


def libpq_url(engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class PgListener:
    """LISTENs on `channel` on its own autocommit connection and calls `wake` on every notification."""

    def __init__(self, engine, channel: str, wake: Callable[[], None], thread_name: str = "ckb-listen"):
        self.url = libpq_url(engine)
        self.channel = channel
        self.wake = wake
        self.thread_name = thread_name
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self.ready = threading.Event()  # set once LISTEN is in place (tests wait for it)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
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
                    conn.execute(f"LISTEN {self.channel}")
                    self.ready.set()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.wake()
            except Exception:  # noqa: BLE001 - the poll covers the gap; try again shortly
                self.ready.clear()
                log.warning("LISTEN %s lost its connection; retrying", self.channel, exc_info=True)
                self._stop.wait(RECONNECT_SECONDS)
