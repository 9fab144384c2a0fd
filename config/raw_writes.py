"""Rows written past SQLAlchemy's statement events, announced to whoever must hear of them.

The hot paths write through the DBAPI cursor (events/record_store.py, engine/bulk_rows.py), so
SQLAlchemy's `after_execute` never fires for them. The operation log (crm/audit/recorder.py)
listens to those events to log a request's writes; it registers here too, so an event stored
by a console action is logged exactly as it was when the ORM wrote it. A listener is called on
the writer's thread, inside the writer's transaction, with the SQLAlchemy Connection.
"""
from __future__ import annotations

from typing import Callable

# listener(connection, action, table_name, rowcount, sql)
RawWriteListener = Callable[[object, str, str, int, str], None]
_LISTENERS: list[RawWriteListener] = []


def on_raw_write(listener: RawWriteListener) -> None:
    """Registers a listener (idempotent)."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def announce_raw_write(conn, action: str, table_name: str, rowcount: int, sql: str) -> None:
    """After a write that bypassed SQLAlchemy's events: `action` is bulk_insert, bulk_update or
    bulk_delete; nothing is announced for a write that changed no row."""
    if rowcount:
        for listener in _LISTENERS:
            listener(conn, action, table_name, rowcount, sql)
