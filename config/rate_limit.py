"""Fixed-window rate limits for public endpoints (platform webhooks, QR scans, landing pages).

`hit("webhook:ip:1.2.3.4", limit=120, window_seconds=60)` counts one request in the current
window and answers (allowed, retry_after seconds). When Redis cannot answer, the limit fails
closed: LimiterUnavailable (web answers 503 with its message and Retry-After). With Redis configured every web process
shares one counter (INCR + EXPIRE, atomic in a MULTI); without it the counters live in this
process, which is exact for the one-process mode and per-process under gunicorn.

A fixed window lets a client spend up to twice its limit around a window edge; for throttling
floods of webhook calls that is good enough and costs one counter per key and window.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable, Optional

from config.errors import LimiterUnavailable
from config.redis_factory import is_outage, make_redis
from config.settings import Settings

REDIS_PREFIX = "ckb:rl"
# The in-process store drops finished windows once it holds this many counters, so a scan from
# many addresses cannot grow memory without bound.
PRUNE_AT = 10_000


class RateLimiter:
    """`count`/`hit` with a clock that tests can drive (epoch seconds)."""

    def __init__(self, redis=None, clock: Optional[Callable[[], float]] = None):
        self.redis = redis
        self.clock = clock or time.time
        self._counts: dict[tuple[str, int, int], int] = {}
        self._lock = threading.Lock()
        self._prune_at = PRUNE_AT

    @classmethod
    def from_settings(cls, settings: Settings, clock: Optional[Callable[[], float]] = None) -> "RateLimiter":
        return cls(make_redis(settings), clock)

    def count(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Counts one request; answers (requests in this window so far, seconds until it ends)."""
        window_seconds = max(1, int(window_seconds))
        now = self.clock()
        window = int(now // window_seconds)
        retry_after = max(1, math.ceil((window + 1) * window_seconds - now))
        if self.redis is not None:
            try:
                return self._count_redis(key, window, window_seconds), retry_after
            except Exception as exc:
                if is_outage(exc):
                    raise LimiterUnavailable() from exc
                raise
        with self._lock:
            if len(self._counts) >= self._prune_at:
                self._prune(now)
            slot = (key, window_seconds, window)
            self._counts[slot] = self._counts.get(slot, 0) + 1
            return self._counts[slot], retry_after

    def hit(self, key: str, limit: int, window_seconds: int) -> tuple[bool, int]:
        """(allowed, retry_after): allowed while at most `limit` requests fell in this window."""
        seen, retry_after = self.count(key, window_seconds)
        return seen <= limit, (0 if seen <= limit else retry_after)

    def uncount(self, key: str, window_seconds: int, *, all_of_window: bool = False) -> None:
        """Takes back one counted request of the current window (or all of them): login attempts
        are counted before the password is checked, so parallel guesses cannot slip past the
        limit, and a successful one is taken back."""
        window_seconds = max(1, int(window_seconds))
        window = int(self.clock() // window_seconds)
        if self.redis is not None:
            name = f"{REDIS_PREFIX}:{key}:{window_seconds}:{window}"
            if all_of_window:
                self.redis.delete(name)
            elif int(self.redis.decr(name)) < 0:
                self.redis.delete(name)
            return
        with self._lock:
            slot = (key, window_seconds, window)
            left = 0 if all_of_window else self._counts.get(slot, 0) - 1
            if left > 0:
                self._counts[slot] = left
            else:
                self._counts.pop(slot, None)

    def _count_redis(self, key: str, window: int, window_seconds: int) -> int:
        name = f"{REDIS_PREFIX}:{key}:{window_seconds}:{window}"
        pipe = self.redis.pipeline(transaction=True)
        pipe.incr(name)
        # The key outlives its window by a second so a slow clock cannot reset a live counter.
        pipe.expire(name, window_seconds + 1)
        seen, _ = pipe.execute()
        return int(seen)

    def _prune(self, now: float) -> None:
        for slot in [s for s in self._counts if (s[2] + 1) * s[1] <= now]:
            del self._counts[slot]
        # Many live windows (a real crowd): prune again only when the store has doubled.
        self._prune_at = max(PRUNE_AT, 2 * len(self._counts))
