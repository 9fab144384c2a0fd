"""Redis client factory; None when no CKB_REDIS_URL is configured (in-process fallbacks apply)."""
from __future__ import annotations

from config.settings import Settings


def make_redis(settings: Settings):
    if not settings.redis_url:
        return None
    import redis

    return redis.Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=5)


def is_outage(exc: BaseException) -> bool:
    """Redis could not answer (down, frozen past the socket timeout, refusing): a reason to defer
    or refuse politely, never a bug. Works without importing redis where it is not installed."""
    if isinstance(exc, (OSError, ConnectionError, TimeoutError)):
        return True
    return type(exc).__module__.split(".")[0] == "redis"
