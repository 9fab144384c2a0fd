"""Slowing down password guessing without handing strangers a way to lock staff out.

Three scopes are counted (shared through Redis when configured, see config.rate_limit):

- one username from one address: login_max_failures per login_lockout_seconds, then twice as
  many per 12× as long, then four times as many per day (progressively longer waits);
- one address across all usernames (a password spray): login_ip_max_failures per
  login_ip_window_seconds, and five times that per day;
- everybody together: past login_global_soft_failures a minute (a distributed attack) each
  address is held to login_max_failures across all usernames, while an address with no recent
  failures still gets in on its first try.

Attempts are counted before the password is checked (parallel guesses cannot slip past a limit)
and a successful one is taken back. The refusal is the same whether or not the username exists,
and no count is kept on the account itself: guesses from a stranger's address never stop the
real user signing in from theirs. Refusals answer how long to wait; nothing sleeps.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from config.rate_limit import RateLimiter
from config.settings import Settings
from crm.people.errors import PeopleError

THROTTLED = "尝试过于频繁，请稍后再试"
DAY = 86_400


class LoginThrottled(PeopleError):
    """Too many attempts; `retry_after` seconds until the next one is counted."""

    def __init__(self, retry_after: int):
        super().__init__(THROTTLED)
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Rule:
    key: str
    limit: int
    window: int
    # Taken back entirely after a success (the account's own failures), or only this attempt.
    reset_on_success: bool = False


class LoginThrottle:
    def __init__(self, limiter: RateLimiter, settings: Settings):
        self.limiter = limiter
        self.settings = settings

    def _rules(self, username: str, ip: str) -> tuple[list[_Rule], _Rule, _Rule]:
        """(every rule, the address's short-window rule, the global soft limit)."""
        s = self.settings
        name = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:24]
        per_account = f"login:acct:{name}:{ip}"
        n, w = max(1, s.login_max_failures), max(1, s.login_lockout_seconds)
        ip_n, ip_w = max(1, s.login_ip_max_failures), max(1, s.login_ip_window_seconds)
        address = _Rule(f"login:ip:{ip}", ip_n, ip_w)
        everyone = _Rule("login:all", max(1, s.login_global_soft_failures), 60)
        rules = [
            _Rule(per_account, n, w, True),
            _Rule(per_account, 2 * n, 12 * w, True),
            _Rule(per_account, 4 * n, DAY, True),
            address,
            _Rule(address.key, 5 * ip_n, DAY),
        ]
        return rules + [everyone], address, everyone

    def attempt(self, username: str, ip: str) -> None:
        """Counts one attempt; LoginThrottled when any scope is over its limit (a refused attempt
        is not counted, so waiting out the refusal is enough)."""
        rules, address, everyone = self._rules(username, ip)
        wait, seen_by = 0, {}
        for rule in rules:
            seen, retry_after = seen_by[rule] = self.limiter.count(rule.key, rule.window)
            if seen > rule.limit and rule is not everyone:
                wait = max(wait, retry_after)
        address_seen, address_retry = seen_by[address]
        if seen_by[everyone][0] > everyone.limit and address_seen > self.settings.login_max_failures:
            # Under a distributed attack every address is held to one account's allowance.
            wait = max(wait, address_retry)
        if wait:
            for rule in rules:
                self.limiter.uncount(rule.key, rule.window)
            raise LoginThrottled(wait)

    def succeeded(self, username: str, ip: str) -> None:
        """A correct password: the account's failures from this address are forgiven and this
        attempt no longer counts against the address or the global total."""
        rules, _, _ = self._rules(username, ip)
        for rule in rules:
            self.limiter.uncount(rule.key, rule.window, all_of_window=rule.reset_on_success)
