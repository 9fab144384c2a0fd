"""Fixed-window rate limits: in-process (thread-safe, windows roll over, old windows pruned) and
shared through a real Redis server (two limiters = two web processes share one count)."""
from __future__ import annotations

import threading

import pytest

from config import rate_limit
from config.rate_limit import RateLimiter
from config.settings import Settings


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_allows_up_to_the_limit_then_says_when_to_retry():
    clock = Clock(1_000_040.0)  # 20 s into a minute window
    limiter = RateLimiter(clock=clock)
    assert [limiter.hit("ip:1", 3, 60) for _ in range(3)] == [(True, 0)] * 3
    assert limiter.hit("ip:1", 3, 60) == (False, 40)
    assert limiter.hit("ip:2", 3, 60) == (True, 0)  # keys are independent
    clock.now += 40  # the next window starts
    assert limiter.hit("ip:1", 3, 60) == (True, 0)
    assert limiter.count("ip:1", 60) == (2, 60)


def test_counts_exactly_under_threads():
    limiter = RateLimiter(clock=Clock(60.0))
    allowed = []

    def worker():
        for _ in range(50):
            allowed.append(limiter.hit("scene:1", 120, 60)[0])

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert allowed.count(True) == 120 and allowed.count(False) == 280


def test_finished_windows_are_dropped(monkeypatch):
    monkeypatch.setattr(rate_limit, "PRUNE_AT", 10)
    clock = Clock(0.0)
    limiter = RateLimiter(clock=clock)
    for i in range(10):
        limiter.hit(f"ip:{i}", 5, 60)
    clock.now = 120.0
    limiter.hit("ip:new", 5, 60)
    assert len(limiter._counts) == 1


def test_without_redis_url_counts_in_process(tmp_path):
    limiter = RateLimiter.from_settings(Settings(var_dir=tmp_path))
    assert limiter.redis is None
    assert limiter.hit("k", 1, 60)[0] is True


@pytest.mark.redis
def test_two_processes_share_one_count_through_redis(tmp_path, redis_url):
    clock = Clock(1_000_000.0)
    first = RateLimiter.from_settings(Settings(var_dir=tmp_path, redis_url=redis_url), clock=clock)
    second = RateLimiter.from_settings(Settings(var_dir=tmp_path, redis_url=redis_url), clock=clock)
    assert first.hit("ip:9", 2, 60) == (True, 0)
    assert second.hit("ip:9", 2, 60) == (True, 0)
    assert first.hit("ip:9", 2, 60) == (False, 20)
    ttl = first.redis.ttl(f"{rate_limit.REDIS_PREFIX}:ip:9:60:{1_000_000 // 60}")
    assert 0 < ttl <= 61
    clock.now += 20
    assert second.hit("ip:9", 2, 60) == (True, 0)
    first.redis.close()
    second.redis.close()


def test_uncount_takes_back_one_or_all_of_the_window():
    limiter = RateLimiter(clock=Clock(600.0))
    for _ in range(3):
        limiter.count("login:ip:1", 60)
    limiter.uncount("login:ip:1", 60)
    assert limiter.count("login:ip:1", 60)[0] == 3
    limiter.uncount("login:ip:1", 60, all_of_window=True)
    limiter.uncount("login:ip:1", 60)  # never below zero
    assert limiter.count("login:ip:1", 60)[0] == 1


@pytest.mark.redis
def test_uncount_through_redis(tmp_path, redis_url):
    limiter = RateLimiter.from_settings(Settings(var_dir=tmp_path, redis_url=redis_url), clock=Clock(600.0))
    limiter.count("login:ip:2", 60)
    limiter.uncount("login:ip:2", 60)
    limiter.uncount("login:ip:2", 60)  # never below zero
    assert limiter.count("login:ip:2", 60)[0] == 1
    limiter.uncount("login:ip:2", 60, all_of_window=True)
    assert limiter.count("login:ip:2", 60)[0] == 1
    limiter.redis.close()
