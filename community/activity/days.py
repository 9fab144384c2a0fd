"""Beijing days (the configured zone): which local day an instant falls on and a day's UTC bounds."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from config.clock import from_local, to_local


def day_of(moment: datetime, tz: str) -> date:
    return to_local(moment, tz).date()


def bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day, in UTC."""
    start = from_local(datetime.combine(day, time.min), tz)
    return start, from_local(datetime.combine(day + timedelta(days=1), time.min), tz)


def window(today: date, days: int) -> tuple[date, date]:
    """The last `days` local days up to and including today: (first, last)."""
    return today - timedelta(days=max(1, days) - 1), today
