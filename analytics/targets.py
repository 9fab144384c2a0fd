"""目标: what a person, a team or the company should reach per day, week or month for one KPI.
Money targets are stored in 分, rate targets in whole percent. A week or month without its own
target falls back to the daily target × the number of days (for counts and amounts)."""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session, select

from analytics.errors import AnalyticsError
from analytics.kpis import TARGETABLE, kpi
from analytics.models import TARGET_PERIODS, MetricTarget
from analytics.periods import Period
from config.clock import utcnow

TARGET_DIMS = ("user", "department", "company")
MAX_TARGET = 10**12


def get(session: Session, key: str, dim: str, dim_id: int, period: Period) -> Optional[int]:
    if dim not in TARGET_DIMS:
        return None
    rows = {t.period: t.value for t in session.exec(select(MetricTarget).where(
        MetricTarget.metric == key, MetricTarget.dim == dim, MetricTarget.dim_id == dim_id))}
    if period.kind in rows:
        return rows[period.kind]
    if "day" in rows and period.kind != "day":
        return rows["day"] if not kpi(key).summable else rows["day"] * period.days
    return None


def listing(session: Session, dim: str, dim_id: int) -> dict:
    """{(metric, period): value} of one person / team / the company."""
    return {(t.metric, t.period): t.value for t in session.exec(select(MetricTarget).where(
        MetricTarget.dim == dim, MetricTarget.dim_id == dim_id))}


def parse_value(key: str, text: str) -> Optional[int]:
    """The stored integer for what an operator typed (元 for money, % for rates); None clears it."""
    text = (text or "").strip().replace(",", "")
    if not text:
        return None
    k = kpi(key)
    try:
        number = float(text)
    except ValueError:
        raise AnalyticsError(f"{k.label} 的目标应为数字", {key: "请输入数字"}) from None
    if number < 0 or number != number or number > MAX_TARGET:
        raise AnalyticsError(f"{k.label} 的目标不能为负数或过大", {key: "取值超出范围"})
    if k.is_rate and number > 100:
        raise AnalyticsError(f"{k.label} 的目标是百分比，不能超过 100", {key: "不能超过 100"})
    if k.money:
        return int(round(number * 100))
    if number != int(number):
        raise AnalyticsError(f"{k.label} 的目标应为整数", {key: "请输入整数"})
    return int(number)


def save(session: Session, dim: str, dim_id: int, period: str, values: dict, user_id: Optional[int]) -> int:
    """Sets (or clears, for None) the targets of one person/team/company and period; returns changes."""
    if dim not in TARGET_DIMS or period not in TARGET_PERIODS:
        raise AnalyticsError("目标对象或周期无效", {"period": "周期无效"})
    changed = 0
    for key, value in values.items():
        if key not in TARGETABLE:
            raise AnalyticsError(f"未知指标 {key}", {key: "未知指标"})
        row = session.exec(select(MetricTarget).where(MetricTarget.metric == key, MetricTarget.dim == dim,
                                                      MetricTarget.dim_id == dim_id,
                                                      MetricTarget.period == period)).first()
        if value is None:
            if row is not None:
                session.delete(row)
                changed += 1
            continue
        row = row or MetricTarget(metric=key, dim=dim, dim_id=dim_id, period=period)
        if row.id is None or row.value != value:
            row.value, row.set_by, row.updated_at = value, user_id, utcnow()
            session.add(row)
            changed += 1
    return changed


def display_value(key: str, value: Optional[int]) -> str:
    """The stored value back as the operator typed it (元 for money)."""
    if value is None:
        return ""
    return f"{value / 100:g}" if kpi(key).money else str(value)
