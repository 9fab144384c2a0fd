"""Redis client factory; None when no CKB_REDIS_URL is configured (in-process fallbacks apply).

A frozen Redis must cost little: redis-py's defaults retry a timed-out call several times, so
one call used to wait several socket timeouts. Clients made here wait one short timeout, never
retry, and carry a circuit breaker: after an outage is seen, every call fails at once for
BREAKER_SECONDS instead of each caller waiting its own timeout (the callers already treat an
outage as "defer" or "refuse politely", see is_outage)."""
from __future__ import annotations

import threading
import time

from config.settings import Settings

SOCKET_TIMEOUT = 1.0  # seconds; a healthy Redis answers in milliseconds
BREAKER_SECONDS = 5.0


def make_redis(settings: Settings):
    if not settings.redis_url:
        return None
    return redis_client(settings.redis_url)


_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def shared_redis(url: str):
    """One client per Redis URL per process (for code called without the services object)."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            client = _clients[url] = redis_client(url)
        return client


def redis_client(url: str, *, timeout: float = SOCKET_TIMEOUT, breaker_seconds: float = BREAKER_SECONDS):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    class GuardedRedis(redis.Redis):
        """redis.Redis that fails fast while its breaker is open (scripts and plain commands;
        pipelines go through their own path and only get the short timeout)."""

        _open_until = 0.0

        def execute_command(self, *args, **options):
            if time.monotonic() < self._open_until:
                raise redis.exceptions.ConnectionError("Redis 暂不可用（熔断中，稍后自动重试）")
            try:
                return super().execute_command(*args, **options)
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError):
                # Only "could not answer" opens it; a script or command error is a bug, not an outage.
                self._open_until = time.monotonic() + breaker_seconds
                raise

    return GuardedRedis.from_url(url, decode_responses=True, socket_timeout=timeout,
                                 socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0))


def is_outage(exc: BaseException) -> bool:
    """Redis could not answer (down, frozen past the socket timeout, refusing): a reason to defer
    or refuse politely, never a bug. Works without importing redis where it is not installed."""
    if isinstance(exc, (OSError, ConnectionError, TimeoutError)):
        return True
    return type(exc).__module__.split(".")[0] == "redis"
