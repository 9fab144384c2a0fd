"""Idempotency-Key, on Stripe's contract, for every signed entrance (events and leads).

- The request is fingerprinted (endpoint + body): a retry of the same request with the same key
  gets the first answer again and stores nothing twice.
- The same key with a *different* request is refused (422 idempotency_key_conflict) — answering
  it with the first reply would acknowledge an event that is never stored.
- The key is taken inside the write transaction that stores the request's data, by an
  INSERT … ON CONFLICT DO NOTHING: concurrent requests with one key queue on it (the unique
  index) instead of all passing a read-before-write check, and the losers see the winner's row.
- A key expires KEY_TTL after first use, decided at lookup (the nightly purge only frees space).
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import select, update

from config.clock import as_utc, to_local
from config.dialect_insert import insert_for
from events.errors import IngestError
from events.models import IdempotencyKey

KEY_TTL = timedelta(hours=24)
MAX_KEY_CHARS = 128
TABLE = IdempotencyKey.__table__


def fingerprint(endpoint: str, body: bytes) -> str:
    return hashlib.sha256(endpoint.encode() + b"\n" + body).hexdigest()


def check_key(key: Optional[str]) -> Optional[str]:
    """The header's key, or None when absent; a malformed one is refused (400)."""
    if key is None:
        return None
    if not key.strip() or len(key) > MAX_KEY_CHARS:
        raise IngestError(400, "bad_idempotency_key", f"Idempotency-Key 应为 1–{MAX_KEY_CHARS} 个字符")
    return key


def claim(conn, app_id: int, key: str, print_: str, now: datetime, tz: str) -> Optional[tuple[int, dict]]:
    """Takes `key` for this request inside the caller's write transaction: None means go ahead
    (then call `settle` in the same transaction); a (status, payload) pair is the first answer to
    replay. Raises IngestError(422) when the key belongs to a different request."""
    ins = insert_for(conn)(TABLE)
    taken = conn.execute(ins.values(app_id=app_id, key=key, fingerprint=print_, status_code=0, response={},
                                    created_at=now).on_conflict_do_nothing(index_elements=["app_id", "key"])
                         .returning(TABLE.c.id)).scalar()
    if taken is not None:
        return None
    row = conn.execute(select(TABLE.c.id, TABLE.c.fingerprint, TABLE.c.status_code, TABLE.c.response,
                              TABLE.c.created_at).where(TABLE.c.app_id == app_id, TABLE.c.key == key)).first()
    if as_utc(row.created_at) <= as_utc(now) - KEY_TTL:
        # Expired: the key starts afresh for this request (guarded, so two takers cannot both win).
        renewed = conn.execute(update(TABLE).where(TABLE.c.id == row.id, TABLE.c.created_at == row.created_at)
                               .values(fingerprint=print_, status_code=0, response={}, created_at=now)).rowcount
        if renewed:
            return None
        raise IngestError(409, "idempotency_key_in_use", f"Idempotency-Key「{key}」正被另一个请求使用，请稍后重试")
    if row.fingerprint != print_:
        first = to_local(row.created_at, tz).strftime("%Y-%m-%d %H:%M:%S")
        raise IngestError(422, "idempotency_key_conflict",
                          f"Idempotency-Key「{key}」已于 {first} 用于另一个不同的请求；同一个键只能重发完全相同的请求，"
                          f"新请求请换一个键")
    return row.status_code, dict(row.response or {})


def settle(conn, app_id: int, key: str, status: int, payload: dict) -> None:
    """Records the answer the key replays from now on (same transaction as `claim`)."""
    conn.execute(update(TABLE).where(TABLE.c.app_id == app_id, TABLE.c.key == key)
                 .values(status_code=status, response=payload))
