"""生命周期漏斗 入群/加好友 → 首购 → 复购 over customer_score.

A customer is in step 入群/加好友 once they have a first contact, in 首购 once also a first purchase,
in 复购 once also a second purchase. Step conversion is the share of the previous step; the median
time between steps is over customers with both instants, the later one not before the earlier
(someone who bought before ever being added is counted as a buyer but has no contact → 首购 time).
"""
from __future__ import annotations

from statistics import median
from typing import Optional

from sqlalchemy import case, func, select
from sqlmodel import Session

from analytics import segments
from analytics.score_models import CustomerScore
from config.clock import as_utc
from crm.scope import Viewer


def _median_hours(pairs) -> Optional[float]:
    gaps = [(as_utc(b) - as_utc(a)).total_seconds() / 3600 for a, b in pairs if a and b and as_utc(b) >= as_utc(a)]
    return round(median(gaps), 1) if gaps else None


def _rate(n: int, previous: Optional[int]) -> Optional[float]:
    if previous is None:  # the first step is the base
        return 1.0 if n else None
    return n / previous if previous else None


def compute(session: Session, viewer: Viewer, seg: segments.Segment) -> dict:
    """Steps with counts, conversion from the previous step and from the first; median hours between steps.
    `seg` carries the filters (channel, scene, group, cohort month); each step links to its customers."""
    where = [segments.in_scope_scores(viewer), *segments.score_filters(seg)]
    counts = session.execute(select(*(func.coalesce(func.sum(case((segments.STEP_CLAUSES[s](), 1), else_=0)), 0)
                                      for s in segments.STEPS)).where(*where)).one()
    pairs = session.execute(select(CustomerScore.first_contact_at, CustomerScore.first_order_at,
                                   CustomerScore.second_order_at)
                            .where(*where, CustomerScore.first_contact_at.is_not(None),
                                   CustomerScore.first_order_at.is_not(None))).all()
    steps, first, previous = [], int(counts[0] or 0), None
    for (key, label), n in zip(segments.STEPS.items(), counts):
        n = int(n or 0)
        steps.append({"key": key, "label": label, "count": n,
                      "step_rate": _rate(n, previous),
                      "overall_rate": n / first if first else None,
                      "params": segments.Segment(kind="funnel", step=key, channel_id=seg.channel_id,
                                                 scene_id=seg.scene_id, group_id=seg.group_id,
                                                 cohort=seg.cohort).params()})
        previous = n
    return {"steps": steps,
            "median_hours": {"contact_to_first": _median_hours((a, b) for a, b, _ in pairs),
                             "first_to_repeat": _median_hours((b, c) for _, b, c in pairs if c)}}
