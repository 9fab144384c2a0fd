"""access_token and JS-SDK ticket caching for 企业微信.

WeCom hands out the same access_token to every caller until it expires (7200 s), so a per-process
cache is correct across several web processes; we refresh 5 minutes early and on 40014/42001
(the server may invalidate a token before its time). Tickets (jsapi_ticket, agent_config) follow the
same rule and are rate-limited by WeCom, which is why they are cached until expiry too."""
from __future__ import annotations

import hashlib
import threading
import time
from typing import Callable

EARLY_SECONDS = 300


class TokenCache:
    def __init__(self, now: Callable[[], float] = time.monotonic):
        self._now = now
        self._values: dict[tuple, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(api_base: str, corp_id: str, secret: str, kind: str) -> tuple:
        # The secret is part of the key (a changed secret must not reuse the old token), hashed so
        # the cache never holds it in clear beside the token.
        return api_base, corp_id, hashlib.sha256(secret.encode()).hexdigest()[:16], kind

    def get(self, key: tuple) -> str | None:
        with self._lock:
            found = self._values.get(key)
            if found and found[1] > self._now():
                return found[0]
            self._values.pop(key, None)
            return None

    def put(self, key: tuple, value: str, expires_in: int) -> None:
        with self._lock:
            self._values[key] = (value, self._now() + max(int(expires_in) - EARLY_SECONDS, 60))

    def drop(self, key: tuple) -> None:
        with self._lock:
            self._values.pop(key, None)


CACHE = TokenCache()
