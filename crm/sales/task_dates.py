"""任务中心的日期分栏: 已过期 / 今天 / 明天 / 本周 / 以后 / 无截止日期, counted in the configured
time zone (a task due at 23:30 Beijing time is "today" in Beijing even though it is already
tomorrow in UTC). Also the deadline a task gets when it is dragged into one of these columns.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Optional

from config.clock import as_utc, from_local, zone

DATE_BUCKETS = (
    ("overdue", "已过期"), ("today", "今天"), ("tomorrow", "明天"),
    ("this_week", "本周"), ("later", "以后"), ("none", "无截止日期"),
)
DATE_BUCKET_LABELS = dict(DATE_BUCKETS)
END_OF_DAY = time(23, 59, 59)


def local_today(now: datetime, tz: str) -> date:
    return as_utc(now).astimezone(zone(tz)).date()


def day_start(day: date, tz: str) -> datetime:
    """00:00 of a local day, as aware UTC."""
    return from_local(datetime.combine(day, time()), tz)


def end_of_day(day: date, tz: str) -> datetime:
    """23:59:59 of a local day, as aware UTC — the deadline of "by the end of that day"."""
    return from_local(datetime.combine(day, END_OF_DAY), tz)


def _week_end(today: date) -> date:
    """Sunday of the current Monday-to-Sunday week."""
    return today + timedelta(days=6 - today.weekday())


def bucket_range(bucket: str, now: datetime, tz: str) -> tuple[Optional[datetime], Optional[datetime]]:
    """The [low, high) deadline range of a column; (None, None) with bucket "none" means NULL."""
    today = local_today(now, tz)
    tomorrow_start = day_start(today + timedelta(days=1), tz)
    day2_start = day_start(today + timedelta(days=2), tz)
    week_after = day_start(_week_end(today) + timedelta(days=1), tz)
    now = as_utc(now)
    if bucket == "overdue":
        return None, now
    if bucket == "today":
        return now, tomorrow_start
    if bucket == "tomorrow":
        return tomorrow_start, day2_start
    if bucket == "this_week":
        return day2_start, max(day2_start, week_after)
    if bucket == "later":
        return max(day2_start, week_after), None
    if bucket == "none":
        return None, None
    raise ValueError(bucket)


def bucket_of(deadline: Optional[datetime], now: datetime, tz: str) -> str:
    if deadline is None:
        return "none"
    deadline = as_utc(deadline)
    for key, _label in DATE_BUCKETS[:-1]:
        low, high = bucket_range(key, now, tz)
        if (low is None or deadline >= low) and (high is None or deadline < high):
            return key
    return "later"


def deadline_for_bucket(bucket: str, current: Optional[datetime], now: datetime, tz: str) -> Optional[datetime]:
    """The new deadline of a task dropped into a date column: that column's day, keeping the
    task's time of day when it still lies ahead, else the end of the day. None for 无截止日期;
    ValueError for 已过期 (a task cannot be made overdue on purpose) or an empty column."""
    today = local_today(now, tz)
    if bucket == "none":
        return None
    if bucket == "overdue":
        raise ValueError("overdue")
    days = {"today": today, "tomorrow": today + timedelta(days=1)}
    if bucket == "this_week":
        target = max(today + timedelta(days=2), _week_end(today))
    elif bucket == "later":
        target = max(today + timedelta(days=2), _week_end(today) + timedelta(days=1))
    else:
        target = days[bucket]
    clock_time = as_utc(current).astimezone(zone(tz)).time() if current else END_OF_DAY
    moved = from_local(datetime.combine(target, clock_time), tz)
    if bucket_of(moved, now, tz) != bucket:
        moved = end_of_day(target, tz)
    if bucket_of(moved, now, tz) != bucket:
        raise ValueError(bucket)  # e.g. 本周 on a Saturday: no day of this week is left after 明天
    return moved
