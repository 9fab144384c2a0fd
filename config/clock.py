"""The one source of "now". Stored times are aware UTC; the console shows the configured zone.

Tests swap in ManualClock so that a step delayed 48 hours fires when the test says so.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc


def utcnow() -> datetime:
    return datetime.now(UTC)


class SystemClock:
    def now(self) -> datetime:
        return utcnow()


class ManualClock:
    """A clock that moves only when told to; thread-safe so background threads can read it."""

    def __init__(self, start: datetime | None = None):
        self._now = as_utc(start) if start else utcnow()
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now

    def set(self, value: datetime) -> None:
        with self._lock:
            self._now = as_utc(value)


def as_utc(value: datetime) -> datetime:
    """Aware UTC; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_local(value: datetime | None, tz_name: str) -> datetime | None:
    if value is None:
        return None
    return as_utc(value).astimezone(ZoneInfo(tz_name))


def from_local(value: datetime, tz_name: str) -> datetime:
    """A naive wall-clock time in the configured zone (or an aware one) → aware UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz_name))
    return value.astimezone(UTC)
