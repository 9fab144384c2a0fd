"""Leader election so exactly one process runs the cron jobs.

PostgreSQL: a session-level advisory lock on a held connection. Redis: SET NX with a TTL that
the holder renews. Otherwise: a lease row in leader_lock, renewed by the holder.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select, text, update

from config.services import Services
from engine.models import LeaderLock

log = logging.getLogger("ckb.leader")
ADVISORY_KEY = 0x0C6B5C4ED  # arbitrary but fixed: "ckb scheduler"


class LeaderLease:
    def __init__(self, services: Services, owner: str, name: str = "scheduler", ttl_seconds: int = 30):
        self.services = services
        self.owner = owner
        self.name = name
        self.ttl = ttl_seconds
        self._pg_conn = None

    def acquire(self) -> bool:
        """Takes or renews leadership; call periodically (every ttl/3)."""
        try:
            if self.services.db.is_postgres:
                return self._pg()
            if self.services.redis is not None:
                return self._redis()
            return self._table()
        except Exception:  # noqa: BLE001 - losing the election is safe; crashing the scheduler is not
            log.exception("leader election failed")
            return False

    def _pg(self) -> bool:
        if self._pg_conn is None:
            self._pg_conn = self.services.db.engine.connect()
        got = self._pg_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar()
        self._pg_conn.commit()
        return bool(got)

    def _redis(self) -> bool:
        key = f"ckb:leader:{self.name}"
        r = self.services.redis
        if r.set(key, self.owner, nx=True, px=self.ttl * 1000):
            return True
        if r.get(key) == self.owner:
            r.pexpire(key, self.ttl * 1000)
            return True
        return False

    def _table(self) -> bool:
        now = self.services.now()
        until = now + timedelta(seconds=self.ttl)
        with self.services.db.write() as s:
            row = s.get(LeaderLock, self.name)
            if row is None:
                s.add(LeaderLock(name=self.name, holder=self.owner, expires_at=until))
                return True
            if row.holder == self.owner or row.expires_at < now:
                s.execute(update(LeaderLock).where(LeaderLock.name == self.name).values(holder=self.owner, expires_at=until))
                return True
            return False

    def release(self) -> None:
        try:
            if self._pg_conn is not None:
                self._pg_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._pg_conn.close()
                self._pg_conn = None
            elif self.services.redis is not None:
                if self.services.redis.get(f"ckb:leader:{self.name}") == self.owner:
                    self.services.redis.delete(f"ckb:leader:{self.name}")
            else:
                with self.services.db.write() as s:
                    s.execute(delete(LeaderLock).where(LeaderLock.name == self.name, LeaderLock.holder == self.owner))
        except Exception:  # noqa: BLE001 - best effort on shutdown; the lease expires anyway
            log.exception("leader release failed")

    def holder(self) -> str | None:
        with self.services.db.read() as s:
            return s.execute(select(LeaderLock.holder).where(LeaderLock.name == self.name)).scalar()
