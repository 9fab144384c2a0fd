"""Redis client factory; None when no CKB_REDIS_URL is configured (in-process fallbacks apply)."""
from __future__ import annotations

from config.settings import Settings


def make_redis(settings: Settings):
    if not settings.redis_url:
        return None
    import redis

    return redis.Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=5)
