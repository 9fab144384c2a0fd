"""The one source of "now". Stored times are aware UTC; the console shows the configured zone.

Tests swap in ManualClock so that a step delayed 48 hours fires when the test says so.

The configured zone: building the process's Services installs settings.timezone (CKB_TIMEZONE)
here; a function given no zone (tz=None) uses it, so a caller that forgets to pass the zone still
follows the setting instead of a literal default.
"""
from __future__ import annotations

import re
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


_installed_zone: str | None = None


def install_zone(tz_name: str) -> None:
    """Make `tz_name` the process's configured zone (Services does this from settings)."""
    global _installed_zone
    ZoneInfo(tz_name)  # refuse an unknown zone here, not at the first page view
    _installed_zone = tz_name


def configured_zone_name() -> str:
    if _installed_zone is None:
        from config.settings import load_settings
        install_zone(load_settings().timezone)
    return _installed_zone  # type: ignore[return-value]


def zone(tz_name: str | None = None) -> ZoneInfo:
    """ZoneInfo of `tz_name`, or of the configured zone when none is given."""
    return ZoneInfo(tz_name or configured_zone_name())


def to_local(value: datetime | None, tz_name: str | None = None) -> datetime | None:
    if value is None:
        return None
    return as_utc(value).astimezone(zone(tz_name))


DISPLAY_FORMAT = "%Y-%m-%d %H:%M"


def format_local(value: datetime | None, fmt: str = DISPLAY_FORMAT, tz_name: str | None = None,
                 empty: str = "—") -> str:
    """The one formatter for people (pages, exports, messages): a stored time (aware UTC, or naive
    meaning UTC) as wall-clock text in the configured zone."""
    if value is None:
        return empty
    return to_local(value, tz_name).strftime(fmt)


def local_iso(value: datetime | None, tz_name: str | None = None) -> str | None:
    """ISO-8601 with the configured zone's offset (2026-12-07T14:50:00+08:00) for machine-readable
    text a person may also read: bundle files, dry-run answers, payloads shown in 事件历史."""
    return None if value is None else to_local(value, tz_name).isoformat()


_ISO_INSTANT = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$")


def parse_iso_instant(text) -> datetime | None:
    """An aware datetime when `text` is a whole ISO-8601 date-time with a zone (Z or an offset), else None."""
    if not isinstance(text, str) or not _ISO_INSTANT.match(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def localize_times(value):
    """Stored data (event payloads, step requests) for display: every ISO instant inside it
    rewritten with the configured zone's offset, nothing else touched."""
    if isinstance(value, dict):
        return {k: localize_times(v) for k, v in value.items()}
    if isinstance(value, list):
        return [localize_times(v) for v in value]
    instant = parse_iso_instant(value)
    return local_iso(instant) if instant is not None else value


def from_local(value: datetime, tz_name: str | None = None) -> datetime:
    """A naive wall-clock time in the configured zone (or an aware one) → aware UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(tz_name))
    return value.astimezone(UTC)
