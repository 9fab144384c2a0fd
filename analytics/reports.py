"""每日数据报表 / 周复盘 figures / 月度数据看板: for one scope (person, team, account, company) and one
period, each KPI's actual value read from the daily rollups, its target, 达成率 (actual ÷ target),
环比 (change against the period before) and 同比 (against the same period a year earlier); a trend
series for the chart and a ranking one level down (a team's people, a person's accounts).

Counts of people are distinct per day; a week's or month's figure is the sum of its days
(人次: someone active on three days counts three times), which is what the targets are set in."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Optional

from sqlmodel import Session

from analytics import rollup_store as store
from analytics import targets as target_store
from analytics.kpis import Kpi, fmt, kpi
from analytics.periods import Period
from analytics.scopes import Scope


@dataclass
class Figure:
    key: str
    label: str
    unit: str
    actual: Optional[float]
    target: Optional[int]
    achieved: Optional[float]  # 达成率 %
    previous: Optional[float]
    mom: Optional[float]  # 环比 %
    year_ago: Optional[float]
    yoy: Optional[float]  # 同比 %
    money: bool
    rate: bool
    definition: str

    def text(self, field: str) -> str:
        value = getattr(self, field)
        return fmt(kpi(self.key), value)

    def as_dict(self) -> dict:
        return asdict(self)


def _sum(session: Session, metric: str, scope: Scope, period: Period) -> int:
    return store.totals(session, metric, scope.dim, period.first, period.last, [scope.dim_id]).get(scope.dim_id, 0)


def _value(session: Session, k: Kpi, scope: Scope, period: Period, cache: dict) -> Optional[float]:
    def get(metric):
        key = (metric, period)
        if key not in cache:
            cache[key] = _sum(session, metric, scope, period)
        return cache[key]

    if k.is_rate:
        den = get(k.denominator)
        return round(100.0 * get(k.numerator) / den, 1) if den else None
    return get(k.key)


def _change(now: Optional[float], before: Optional[float]) -> Optional[float]:
    if now is None or not before:
        return None
    return round(100.0 * (now - before) / before, 1)


def figures(session: Session, scope: Scope, period: Period, keys: list[str]) -> list[Figure]:
    cache: dict = {}
    out = []
    for key in keys:
        k = kpi(key)
        actual = _value(session, k, scope, period, cache)
        previous = _value(session, k, scope, period.previous(), cache)
        year_ago = _value(session, k, scope, period.year_ago(), cache)
        target = target_store.get(session, key, scope.dim, scope.dim_id, period)
        if target is not None and k.is_rate:
            achieved = round(100.0 * actual / target, 1) if (target and actual is not None) else None
        else:
            achieved = round(100.0 * (actual or 0) / target, 1) if target else None
        out.append(Figure(key, k.label, k.unit, actual, target, achieved, previous, _change(actual, previous),
                          year_ago, _change(actual, year_ago), k.money, k.is_rate, k.definition))
    return out


def trend(session: Session, scope: Scope, metrics: list[str], first: date, last: date) -> dict[str, dict[date, int]]:
    return {m: store.series(session, m, scope.dim, [scope.dim_id], first, last) for m in metrics}


def trend_window(period: Period) -> tuple[date, date]:
    """The days the chart shows: the 30 days up to a day, else the period's own days."""
    if period.kind == "day":
        return period.last - timedelta(days=29), period.last
    return period.first, period.last


def ranking(session: Session, rows: list[Scope], period: Period, metrics: list[str]) -> list[dict]:
    """Per member: their value of each metric in the period, best new_friends first."""
    if not rows:
        return []
    dim = rows[0].dim
    ids = [r.dim_id for r in rows]
    values = {m: store.totals(session, m, dim, period.first, period.last, ids) for m in metrics}
    table = [{"scope": r, "values": {m: values[m].get(r.dim_id, 0) for m in metrics}} for r in rows]
    table.sort(key=lambda row: [-row["values"][m] for m in metrics])
    return table
