"""Reading and writing DailyMetric rows: the one place that knows the table's shape.

`bump` adds to a day's value for several dimensions at once (an event counted for its staff member,
department, account and the company in one statement); `put` sets values outright (the nightly
recompute); `series` and `totals` read them back for reports, panels and dashboards.
Callers pass Beijing (configured-zone) days; config.clock turns instants into days.
"""
from __future__ import annotations

from datetime import date
from typing import Iterable, Mapping, Optional

from sqlalchemy import func
from sqlmodel import Session, select

from analytics.models import DIMENSIONS, DailyMetric
from config.clock import utcnow
from config.dialect_insert import insert_for

COMPANY = ("company", 0)


def _rows(day: date, metric: str, dims: Iterable[tuple[str, int]], value: int) -> list[dict]:
    rows = []
    for dim, dim_id in dims:
        if dim not in DIMENSIONS:
            raise ValueError(f"unknown rollup dimension {dim!r}")
        if dim_id is None:
            continue  # the event has no such dimension (no owner, no channel)
        rows.append({"day": day, "metric": metric, "dim": dim, "dim_id": int(dim_id), "value": int(value),
                     "updated_at": utcnow()})
    return rows


def bump(session: Session, day: date, metric: str, dims: Iterable[tuple[str, Optional[int]]], delta: int = 1) -> None:
    """value += delta for each (dim, dim_id) of `day` and `metric`, creating missing rows."""
    rows = _rows(day, metric, dims, delta)
    if not rows or not delta:
        return
    insert = insert_for(session)
    stmt = insert(DailyMetric).values(rows)
    stmt = stmt.on_conflict_do_update(index_elements=["day", "metric", "dim", "dim_id"],
                                      set_={"value": DailyMetric.value + stmt.excluded.value,
                                            "updated_at": stmt.excluded.updated_at})
    session.execute(stmt)


def put(session: Session, day: date, metric: str, values: Mapping[tuple[str, int], int]) -> None:
    """Sets the values of `day` and `metric` for the given dimensions (a recompute's result)."""
    rows = [r for (dim, dim_id), v in values.items() for r in _rows(day, metric, [(dim, dim_id)], v)]
    if not rows:
        return
    insert = insert_for(session)
    stmt = insert(DailyMetric).values(rows)
    stmt = stmt.on_conflict_do_update(index_elements=["day", "metric", "dim", "dim_id"],
                                      set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at})
    session.execute(stmt)


def series(session: Session, metric: str, dim: str, dim_ids: Iterable[int], start: date, end: date) -> dict[date, int]:
    """Per day from start to end (inclusive), summed over dim_ids; missing days are 0."""
    ids = list(dim_ids)
    stmt = (select(DailyMetric.day, func.sum(DailyMetric.value))
            .where(DailyMetric.metric == metric, DailyMetric.dim == dim, DailyMetric.dim_id.in_(ids),
                   DailyMetric.day >= start, DailyMetric.day <= end)
            .group_by(DailyMetric.day))
    found = {d: int(v or 0) for d, v in session.exec(stmt).all()}
    out, day = {}, start
    while day <= end:
        out[day] = found.get(day, 0)
        day = date.fromordinal(day.toordinal() + 1)
    return out


def totals(session: Session, metric: str, dim: str, start: date, end: date,
           dim_ids: Optional[Iterable[int]] = None) -> dict[int, int]:
    """Sum over the days per dim_id (all of the dimension's ids unless dim_ids is given)."""
    stmt = (select(DailyMetric.dim_id, func.sum(DailyMetric.value))
            .where(DailyMetric.metric == metric, DailyMetric.dim == dim,
                   DailyMetric.day >= start, DailyMetric.day <= end)
            .group_by(DailyMetric.dim_id))
    if dim_ids is not None:
        stmt = stmt.where(DailyMetric.dim_id.in_(list(dim_ids)))
    return {int(i): int(v or 0) for i, v in session.exec(stmt).all()}
