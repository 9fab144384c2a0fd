"""Clock times ("HH:MM") and daily time windows ("22:00-08:00") in the configured zone.

The one rule for where a window ends: a window holds its start minute and stops AT its end
minute — 09:00–18:00 is open at 09:00 and at 17:59:59 and closed at 18:00 (half-open, the way
working hours and quiet hours are read aloud). An end earlier than the start crosses midnight:
22:00–08:00 holds 22:00 … 07:59 of the next morning. "24:00" is accepted as an end and means
until midnight, so 00:00–24:00 is the whole day. A start equal to the end is refused: it could
mean "never" or "always".

Every HH:MM parser and every window check of the project goes through here, so 自动通过好友,
线索分配的工作时间, 免打扰时段 and the workbench windows cannot disagree about a minute.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from config.errors import ClockError

DAY_MINUTES = 24 * 60
_CLOCK = re.compile(r"^\s*(\d{1,2})\s*[:：]\s*(\d{2})\s*$")


def parse_clock(text, *, end: bool = False) -> int:
    """Minutes after midnight of "H:MM"/"HH:MM"; "24:00" only when `end` (end of a window)."""
    match = _CLOCK.match(str(text if text is not None else ""))
    if not match:
        raise ClockError(f"时间「{text}」应为 时:分，例如 09:30")
    hour, minute = int(match[1]), int(match[2])
    if end and (hour, minute) == (24, 0):
        return DAY_MINUTES
    if hour > 23 or minute > 59:
        raise ClockError(f"时间「{text}」超出范围（00:00–23:59）")
    return hour * 60 + minute


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def normalize_clock(text, *, end: bool = False) -> str:
    """"9:5" is refused, "9:05" → "09:05"; raises ClockError."""
    return format_clock(parse_clock(text, end=end))


def clock_time(text) -> time:
    """A datetime.time for schedules (cron hour/minute)."""
    minutes = parse_clock(text)
    return time(minutes // 60, minutes % 60)


def _minute_of(value: datetime | time) -> float:
    clock = value.timetz() if isinstance(value, datetime) else value
    return clock.hour * 60 + clock.minute + (clock.second + clock.microsecond / 1e6) / 60


@dataclass(frozen=True)
class TimeWindow:
    start: int  # minutes after midnight
    end: int    # minutes after midnight, 1..1440; before start: the window crosses midnight

    @classmethod
    def of(cls, start, end) -> "TimeWindow":
        a, b = parse_clock(start), parse_clock(end, end=True)
        if a == b:
            raise ClockError("结束时间不能与开始时间相同")
        return cls(a, b if b != 0 else DAY_MINUTES)

    @classmethod
    def parse(cls, text: str) -> "TimeWindow":
        """"22:00-08:00" (also with – or ~)."""
        parts = re.split(r"\s*[-–~～至]\s*", str(text or "").strip(), maxsplit=1)
        if len(parts) != 2:
            raise ClockError(f"时间段「{text}」应为 开始-结束，例如 22:00-08:00")
        return cls.of(*parts)

    @property
    def overnight(self) -> bool:
        return self.end < self.start

    def __str__(self) -> str:
        return f"{format_clock(self.start)}-{format_clock(self.end)}"

    def contains(self, local: datetime | time) -> bool:
        """Whether a wall-clock time (already in the configured zone) lies inside the window."""
        minute = _minute_of(local)
        if self.overnight:
            return minute >= self.start or minute < self.end
        return self.start <= minute < self.end

    def opened_on(self, local: datetime) -> date:
        """The day the occurrence holding `local` started: after midnight in 22:00–06:00 it is yesterday."""
        if self.overnight and _minute_of(local) < self.end:
            return local.date() - timedelta(days=1)
        return local.date()

    def closes_after(self, local: datetime) -> datetime:
        """The naive local end of the occurrence holding `local` (call only when contains(local))."""
        day = self.opened_on(local) + timedelta(days=1 if self.overnight else 0)
        return datetime.combine(day, time(0)) + timedelta(minutes=self.end)

    def opens_after(self, local: datetime) -> datetime:
        """The naive local start of the next occurrence strictly after `local`."""
        opening = datetime.combine(local.date(), time(0)) + timedelta(minutes=self.start)
        if opening <= local.replace(tzinfo=None):
            opening += timedelta(days=1)
        return opening


ALL_DAY = TimeWindow(0, DAY_MINUTES)
