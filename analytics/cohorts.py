"""Cohort retention by month of first contact: for each cohort month (the customers first added or
joined that month, configured zone), the share who made a purchase in the same month (第 0 月) and in
each following month. Months after the current one are left empty, not zero."""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import case, func, select
from sqlmodel import Session

from analytics import lifecycle, segments
from analytics.score_models import CustomerScore
from commerce.orders.models import SalesOrder
from crm.scope import Viewer

MAX_MONTHS = 24


def _index(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def _name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def retention(session: Session, viewer: Viewer, seg: segments.Segment, today: date, months: int = 12,
              tz: Optional[str] = None) -> dict:
    """Cohorts of the last `months` months up to today's, each with size and per-offset counts and rates."""
    months = max(1, min(MAX_MONTHS, months))
    last = today.year * 12 + today.month - 1
    names = [_name(i) for i in range(last - months + 1, last + 1)]
    if seg.cohort:
        names = [n for n in names if n == seg.cohort] or [seg.cohort]
    where = [segments.in_scope_scores(viewer), *segments.score_filters(seg), CustomerScore.contact_month.in_(names)]
    sizes: dict[str, int] = {n: 0 for n in names}
    for month, in session.execute(select(CustomerScore.contact_month).where(*where)):
        sizes[month] += 1
    # Purchases are bucketed by calendar month in SQL: the buckets' bounds are the months' first
    # instants in the configured zone, so the database needs no zone rules.
    first = min(_index(n) for n in names)
    bounds = [segments.month_bounds(_name(first), k, tz)[0] for k in range(last - first + 2)]
    bucket = case(*[(SalesOrder.paid_at < bounds[k + 1], k) for k in range(len(bounds) - 1)], else_=-1)
    stmt = (select(CustomerScore.contact_month, bucket, func.count(func.distinct(SalesOrder.customer_id)))
            .join(SalesOrder, SalesOrder.customer_id == CustomerScore.customer_id)
            .where(*where, lifecycle.purchase_clause(), SalesOrder.paid_at >= bounds[0], SalesOrder.paid_at < bounds[-1])
            .group_by(CustomerScore.contact_month, bucket))
    active: dict[tuple[str, int], int] = {}
    for month, k, n in session.execute(stmt):
        offset = first + int(k) - _index(month)
        if k >= 0 and offset >= 0:
            active[(month, offset)] = int(n)
    rows = []
    for name in names:
        size, cells = sizes[name], []
        for offset in range(months):
            if _index(name) + offset > last:
                cells.append(None)
                continue
            n = active.get((name, offset), 0)
            cells.append({"offset": offset, "count": n, "rate": n / size if size else None,
                          "params": segments.Segment(kind="cohort", cohort=name, offset=offset,
                                                     channel_id=seg.channel_id, scene_id=seg.scene_id,
                                                     group_id=seg.group_id).params()})
        rows.append({"month": name, "size": size, "cells": cells,
                     "params": segments.Segment(kind="funnel", step="contact", cohort=name, channel_id=seg.channel_id,
                                                scene_id=seg.scene_id, group_id=seg.group_id).params()})
    return {"months": months, "offsets": list(range(months)), "rows": rows}
