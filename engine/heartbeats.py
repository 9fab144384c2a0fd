"""Process beacons: every server process (one-process server, web-only, worker, scheduler) writes
its heartbeat row every few seconds, so 系统监控 shows who is running and /readyz can tell that
the event dispatcher or the cron leader is gone — a killed process simply stops beating.

A beat is one small UPDATE (an INSERT the first time); a clean shutdown marks the row stopped.
Rows of processes gone for a day are pruned by the next process that starts.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Optional

from sqlalchemy import delete, insert, select, update

from config.clock import as_utc
from engine.process_models import ProcessHeartbeat

log = logging.getLogger("ckb.heartbeats")
BEATS = ProcessHeartbeat.__table__
PRUNE_AFTER = timedelta(days=1)
KIND_LABELS = {"server": "一体化服务", "web": "Web/API", "worker": "Worker", "scheduler": "调度器", "gateway": "设备网关"}
ROLE_LABELS = {"dispatch": "事件分发", "sweep": "到期步骤", "cron": "定时作业", "web": "Web/API", "gateway": "设备网关"}


def kind_for(roles: set[str]) -> str:
    if roles == {"gateway"}:  # `cunkebao gateway`: phones only (devices/async_gateway.py)
        return "gateway"
    if "web" in roles:
        return "server" if "dispatch" in roles else "web"
    if "cron" in roles:
        return "scheduler"
    return "worker"


def stale_after(interval_seconds: float) -> timedelta:
    """A process is taken for dead after three missed beats (and a little slack for a busy host)."""
    return timedelta(seconds=3 * interval_seconds + 2)


class ProcessBeacon:
    """Writes `owner`'s heartbeat every `interval` seconds on its own thread."""

    def __init__(self, services, owner: str, roles: set[str], *, is_leader: Callable[[], bool] = lambda: False,
                 info: Optional[dict[str, Callable[[], object]]] = None):
        self.services = services
        self.owner = owner
        self.roles = set(roles)
        self.is_leader = is_leader
        self.info = info if info is not None else {}
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._row_id: Optional[int] = None

    @property
    def interval(self) -> float:
        return float(self.services.settings.process_heartbeat_seconds)

    def _info(self) -> dict:
        out = {}
        for key, fn in list(self.info.items()):
            try:
                out[key] = fn()
            except Exception:  # noqa: BLE001 - a figure that fails to read is left out, the beat goes on
                log.debug("heartbeat info %s failed", key, exc_info=True)
        return out

    def beat(self) -> None:
        now = self.services.now()
        values = {"beat_at": now, "is_leader": bool(self.is_leader()), "info": self._info(), "stopped_at": None,
                  "roles": sorted(self.roles), "kind": kind_for(self.roles), "interval_seconds": self.interval}
        with self.services.db.write() as session:
            conn = session.connection()
            if self._row_id is not None:
                if conn.execute(update(BEATS).where(BEATS.c.id == self._row_id).values(**values)).rowcount:
                    return
            conn.execute(delete(BEATS).where(BEATS.c.beat_at < now - PRUNE_AFTER))
            self._row_id = conn.execute(insert(BEATS).values(
                owner=self.owner[:100], host=socket.gethostname()[:100], pid=os.getpid(), started_at=now,
                **values).returning(BEATS.c.id)).scalar_one()

    def _safe_beat(self) -> None:
        try:
            self.beat()
        except Exception:  # noqa: BLE001 - a missed beat shows as lag; the next one tries again
            log.exception("process heartbeat failed")

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self._safe_beat()

    def start(self) -> None:
        """The first beat is written before returning, so the process is listed once started."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._safe_beat()
        self._thread = threading.Thread(target=self._loop, name="ckb-beacon", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._row_id is None:
            return
        try:
            with self.services.db.write() as session:
                session.connection().execute(update(BEATS).where(BEATS.c.id == self._row_id)
                                             .values(stopped_at=self.services.now(), is_leader=False))
        except Exception:  # noqa: BLE001 - shutting down; the row goes stale instead
            log.exception("marking the process stopped failed")


@dataclass(frozen=True)
class ProcessState:
    row: ProcessHeartbeat
    alive: bool
    lag_seconds: float

    @property
    def status_label(self) -> str:
        if self.row.stopped_at is not None:
            return "已停止"
        return "正常" if self.alive else "失联"


def process_states(session, now: datetime) -> list[ProcessState]:
    """Every process seen in the last day, newest beat first; each judged by its own interval."""
    rows = session.execute(select(ProcessHeartbeat).order_by(ProcessHeartbeat.beat_at.desc()).limit(200)).scalars().all()
    out = []
    for row in rows:
        lag = (as_utc(now) - as_utc(row.beat_at)).total_seconds()
        alive = row.stopped_at is None and lag <= stale_after(row.interval_seconds).total_seconds()
        out.append(ProcessState(row, alive, max(lag, 0.0)))
    return out
