"""Login throttling (crm.people.login_throttle): by account from one address, by address across
accounts (a password spray), and a global soft limit; never a lock a stranger can put on a user.
Every test runs with the in-process counters and, when a server is there, with real Redis."""
from __future__ import annotations

import pytest

from config.rate_limit import RateLimiter
from config.redis_factory import make_redis
from config.settings import Settings
from crm.people.login_throttle import THROTTLED, LoginThrottle, LoginThrottled


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def make_throttle(request, tmp_path):
    clients = []

    def make(**limits):
        settings = Settings(var_dir=tmp_path, **limits)
        redis = None
        if request.param == "redis":
            redis = make_redis(settings.model_copy(update={"redis_url": request.getfixturevalue("redis_url")}))
            clients.append(redis)
        clock = Clock(12 * 86_400.0)  # on a boundary of every window used here (UTC midnight)
        return LoginThrottle(RateLimiter(redis, clock=clock), settings), clock

    yield make
    for client in clients:
        client.close()


def _refused(throttle, username, ip) -> int:
    """Seconds to wait when this attempt is refused, else 0 (the attempt then counts as failed)."""
    try:
        throttle.attempt(username, ip)
    except LoginThrottled as exc:
        assert exc.message == THROTTLED
        return exc.retry_after
    return 0


def test_password_spray_from_one_address_is_refused(make_throttle):
    throttle, _ = make_throttle()
    # The review's spray: 300 attempts over 150 usernames from one address.
    outcomes = [_refused(throttle, f"user{i % 150}", "203.0.113.7") for i in range(300)]
    assert outcomes[:20] == [0] * 20
    assert all(outcomes[20:]) and max(outcomes) <= 600
    # Other addresses are unaffected.
    assert _refused(throttle, "user1", "198.51.100.1") == 0


def test_stranger_cannot_lock_the_admin_out(make_throttle):
    throttle, _ = make_throttle()
    refused = [_refused(throttle, "admin", "203.0.113.7") for _ in range(50)]
    assert refused.count(0) == 5 and all(refused[5:])
    # The real admin, from the office, still gets in at once (and stays unthrottled).
    assert _refused(throttle, "admin", "198.51.100.20") == 0
    throttle.succeeded("admin", "198.51.100.20")
    assert _refused(throttle, "Admin", "198.51.100.20") == 0


def test_same_refusal_for_existing_and_unknown_usernames(make_throttle):
    throttle, _ = make_throttle()
    waits = {}
    for name in ("admin", "no-such-user"):
        for _ in range(5):
            assert _refused(throttle, name, "203.0.113.9") == 0
        waits[name] = _refused(throttle, name, "203.0.113.9")
    assert waits["admin"] == waits["no-such-user"] > 0


def test_waits_grow_with_repeated_failures(make_throttle):
    throttle, clock = make_throttle(login_ip_max_failures=1000)
    ip = "203.0.113.10"
    for _ in range(5):
        assert _refused(throttle, "alice", ip) == 0
    assert _refused(throttle, "alice", ip) == 300
    clock.now += 300  # the first wait is over: five more tries
    assert [_refused(throttle, "alice", ip) for _ in range(5)] == [0] * 5
    # Ten failures within the hour: now the wait runs to the end of the hour.
    assert _refused(throttle, "alice", ip) == 3600 - 300
    clock.now += 3300
    assert [_refused(throttle, "alice", ip) for _ in range(5)] == [0] * 5
    assert _refused(throttle, "alice", ip) == 300
    clock.now += 300
    assert [_refused(throttle, "alice", ip) for _ in range(5)] == [0] * 5
    # Twenty within the day: the wait runs to the end of the day.
    assert _refused(throttle, "alice", ip) == 86_400 - 3600 - 300


def test_success_forgives_the_accounts_failures(make_throttle):
    throttle, _ = make_throttle()
    ip = "198.51.100.30"
    for _ in range(4):
        throttle.attempt("bob", ip)
    throttle.attempt("bob", ip)
    throttle.succeeded("bob", ip)
    assert [_refused(throttle, "bob", ip) for _ in range(5)] == [0] * 5


def test_many_successful_sign_ins_from_one_office_are_not_a_spray(make_throttle):
    throttle, _ = make_throttle()
    for i in range(100):
        assert _refused(throttle, f"staff{i}", "198.51.100.50") == 0
        throttle.succeeded(f"staff{i}", "198.51.100.50")


def test_global_soft_limit_holds_each_address_to_one_accounts_allowance(make_throttle):
    throttle, _ = make_throttle(login_global_soft_failures=40)
    # A distributed spray: 20 addresses, a few failures each, 60 in all.
    for n in range(20):
        for _ in range(3):
            throttle.attempt(f"user{n}", f"203.0.113.{n}")
    ip = "203.0.113.200"
    # Under attack an address gets login_max_failures across all usernames, not 20.
    assert [_refused(throttle, f"x{i}", ip) for i in range(5)] == [0] * 5
    assert _refused(throttle, "x5", ip) > 0
    # An address with no failures still gets its first try.
    assert _refused(throttle, "admin", "198.51.100.77") == 0
