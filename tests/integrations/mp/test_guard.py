"""The callback memory (retries answered at once, a nonce reused for another message refused), in
process and on a real Redis shared by several web processes."""
from __future__ import annotations

import pytest

from integrations.mp.guard import CallbackMemory


def _exercise(memory: CallbackMemory, other: CallbackMemory) -> None:
    assert memory.claim_nonce(1, "1700000000", "n1", "1001", ttl=60)
    assert memory.claim_nonce(1, "1700000000", "n1", "1001", ttl=60)  # the same message again: a retry
    assert not other.claim_nonce(1, "1700000000", "n1", "9999", ttl=60)  # another body on that nonce
    assert other.claim_nonce(2, "1700000000", "n1", "9999", ttl=60)  # another account's nonce space
    assert not memory.seen(1, "1001")
    memory.remember(1, "1001")
    assert other.seen(1, "1001") is (other is memory or memory.redis is not None)


def test_in_process():
    memory = CallbackMemory()
    _exercise(memory, memory)


def test_shared_through_redis(redis_url):
    import redis

    first, second = (CallbackMemory(redis.Redis.from_url(redis_url)) for _ in range(2))
    _exercise(first, second)
