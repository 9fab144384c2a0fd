"""A frozen Redis costs one short timeout, then fails fast: clients made by config.redis_factory
do not retry (redis-py's default made one call wait several socket timeouts) and open a circuit
breaker after an outage, so every later caller in the next seconds is refused at once."""
from __future__ import annotations

import time

import pytest
import redis

from config.redis_factory import is_outage, redis_client
from tests.support.frozen_redis import frozen_redis

TIMEOUT = 0.5


def _timed(call):
    t0 = time.monotonic()
    with pytest.raises(redis.exceptions.RedisError) as caught:
        call()
    assert is_outage(caught.value)
    return time.monotonic() - t0


def test_a_frozen_redis_costs_one_timeout_then_the_breaker_answers_at_once():
    with frozen_redis(TIMEOUT) as peer:
        port = peer.connection_pool.connection_kwargs["port"]
        client = redis_client(f"redis://127.0.0.1:{port}/0", timeout=TIMEOUT, breaker_seconds=0.8)
        try:
            first = _timed(lambda: client.get("k"))
            assert TIMEOUT * 0.8 <= first < TIMEOUT * 1.8, first  # one timeout, no retries
            script = client.register_script("return 1")
            assert _timed(lambda: script()) < 0.05  # scripts too: the breaker is open
            assert _timed(lambda: client.set("k", "v")) < 0.05
            time.sleep(0.9)
            assert _timed(lambda: client.get("k")) >= TIMEOUT * 0.8  # closed again: it tries Redis
        finally:
            client.close()
