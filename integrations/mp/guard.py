"""Short-lived memory of callbacks, for what the signature cannot tell:

- WeChat retries a push it got no answer to within 5 s, up to three times, with the same MsgId: a
  message seen in the last RETRY_TTL seconds is answered "success" at once without touching the
  database (the message store's unique external id is the durable dedupe behind it);
- in 明文模式 the signature covers only token, timestamp and nonce, not the body, so a captured
  (timestamp, nonce, signature) could carry a forged body: a nonce already used for another message
  within the skew window is refused as a replay.

Redis when configured (several web processes share it), otherwise in-process."""
from __future__ import annotations

import threading
import time
from typing import Optional

RETRY_TTL = 30  # seconds: covers WeChat's three retries 5 s apart with room for slow answers
MAX_ENTRIES = 100_000


class CallbackMemory:
    def __init__(self, redis=None):
        self.redis = redis
        self._items: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def _get(self, key: str) -> Optional[str]:
        if self.redis is not None:
            value = self.redis.get(key)
            return value.decode() if isinstance(value, bytes) else value
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            return item[1]

    def _set_new(self, key: str, value: str, ttl: int) -> Optional[str]:
        """Sets `key` when absent; returns the value already there otherwise."""
        if self.redis is not None:
            if self.redis.set(key, value, nx=True, ex=ttl):
                return None
            return self._get(key) or value
        with self._lock:
            now = time.monotonic()
            item = self._items.get(key)
            if item is not None and item[0] >= now:
                return item[1]
            if len(self._items) >= MAX_ENTRIES:
                self._items = {k: v for k, v in self._items.items() if v[0] >= now}
            self._items[key] = (now + ttl, value)
            return None

    def claim_nonce(self, account_id: int, timestamp: str, nonce: str, message_key: str, ttl: int) -> bool:
        """False when this (timestamp, nonce) already carried a different message: a replay."""
        held = self._set_new(f"ckb:mp:nonce:{account_id}:{timestamp}:{nonce}", message_key, ttl)
        return held is None or held == message_key

    def seen(self, account_id: int, message_key: str) -> bool:
        return self._get(f"ckb:mp:msg:{account_id}:{message_key}") is not None

    def remember(self, account_id: int, message_key: str) -> None:
        """Called once the message is committed, so a retry racing a failed first attempt is not lost."""
        self._set_new(f"ckb:mp:msg:{account_id}:{message_key}", "1", RETRY_TTL)
