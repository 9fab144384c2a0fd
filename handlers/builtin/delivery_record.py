"""Outbox rows for messages (SMS, e-mail) keyed by the step's idempotency key.

A retried step looks here first: if its message is already recorded as sent, the earlier
outcome is returned and nothing goes out twice.
"""
from __future__ import annotations

import hashlib
from typing import Optional

from sqlmodel import select

from handlers.base import Outcome

FAILED = "failed"
_KEY_COLUMN_CHARS = 128


def record_key(idempotency_key: str) -> str:
    """Fits any engine key into the 128-character unique column without losing uniqueness."""
    if len(idempotency_key) <= _KEY_COLUMN_CHARS:
        return idempotency_key
    return "sha256:" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()


def find_delivered(db, model, idempotency_key: str):
    """The row of an earlier attempt that got the message out, or None."""
    with db.read() as session:
        row = session.exec(select(model).where(model.idempotency_key == record_key(idempotency_key))).first()
    return row if row is not None and row.status != FAILED else None


def replay_outcome(db, model, idempotency_key: str, request: dict, id_field: str, what: str) -> Optional[Outcome]:
    """The earlier attempt's outcome when its message already went out; None means send now."""
    earlier = find_delivered(db, model, idempotency_key)
    if earlier is None:
        return None
    return Outcome(request=request, response={id_field: earlier.id, "status": earlier.status},
                   note=f"此步骤的{what}已发送过，未重复发送")


def save(db, model, idempotency_key: Optional[str], **fields):
    """Inserts the row, or updates the failed row an earlier attempt left under the same key."""
    key = record_key(idempotency_key) if idempotency_key else None
    with db.write() as session:
        row = None
        if key:
            row = session.exec(select(model).where(model.idempotency_key == key)).first()
        if row is None:
            row = model(idempotency_key=key, **fields)
        else:
            for name, value in fields.items():
                setattr(row, name, value)
        session.add(row)
        session.flush()
        session.refresh(row)
    return row
