"""Report periods: a Beijing day, an ISO week (周一–周日) or a calendar month, with the period before
(环比) and the same period a year earlier (同比). Parsed from the text the pages and the API use:
2026-12-07, 2026-W49, 2026-12."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from analytics.errors import AnalyticsError

KINDS = {"day": "日", "week": "周", "month": "月"}


@dataclass(frozen=True)
class Period:
    kind: str
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def key(self) -> str:
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return self.first.strftime("%Y-%m")

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.first.strftime("%Y年%m月%d日")
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}年第{week}周（{self.first.strftime('%m-%d')} 至 {self.last.strftime('%m-%d')}）"
        return self.first.strftime("%Y年%m月")

    def previous(self) -> "Period":
        if self.kind == "month":
            return month_of(self.first - timedelta(days=1))
        return Period(self.kind, self.first - timedelta(days=self.days), self.last - timedelta(days=self.days))

    def next(self) -> "Period":
        if self.kind == "month":
            return month_of(self.last + timedelta(days=1))
        return Period(self.kind, self.first + timedelta(days=self.days), self.last + timedelta(days=self.days))

    def year_ago(self) -> "Period":
        if self.kind == "day":
            return day_of(_same_day_last_year(self.first))
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return week_of(_iso_monday(year - 1, min(week, _weeks_in(year - 1))))
        return month_of(_same_day_last_year(self.first))

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(self.days)]


def _same_day_last_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 Feb → 28 Feb
        return day.replace(year=day.year - 1, day=28)


def _weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


def _iso_monday(year: int, week: int) -> date:
    return date.fromisocalendar(year, week, 1)


def day_of(day: date) -> Period:
    return Period("day", day, day)


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period("week", monday, monday + timedelta(days=6))


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return Period("month", first, nxt - timedelta(days=1))


_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def parse(kind: str, text: str | None, today: date) -> Period:
    """The period `text` names (empty: the one containing today); AnalyticsError on bad text."""
    text = (text or "").strip()
    if kind not in KINDS:
        raise AnalyticsError("报表周期应为 day / week / month", {"period": "周期无效"})
    try:
        if kind == "day":
            return day_of(date.fromisoformat(text) if text else today)
        if kind == "week":
            if not text:
                return week_of(today)
            m = _WEEK.match(text)
            if not m:
                raise ValueError(text)
            return week_of(_iso_monday(int(m.group(1)), int(m.group(2))))
        if not text:
            return month_of(today)
        m = _MONTH.match(text)
        if not m:
            raise ValueError(text)
        return month_of(date(int(m.group(1)), int(m.group(2)), 1))
    except ValueError:
        example = {"day": "2026-12-07", "week": "2026-W49", "month": "2026-12"}[kind]
        raise AnalyticsError(f"日期格式错误，应如 {example}", {kind: f"应如 {example}"}) from None
