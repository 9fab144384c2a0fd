"""The company-wide, unfiltered dashboard figures of a scoring pass, kept in rfm_run.snapshot.

An admin opening 生命周期漏斗, 同期群留存, RFM or the 看板's totals without filters would otherwise
aggregate every customer on each request (seconds at a million customers on SQLite). These figures
only change when customer_score does, so the pass computes them once, with the same functions the
pages use live, and the pages read them back when the viewer sees every customer
(customers.view_all) and picked no filter. Scoped viewers and filtered views are computed live.
Customers recycled after the pass leave the snapshot at the next pass (nightly or 重新计算).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable, Optional

from sqlmodel import Session

from analytics import cohorts, funnel, overview, rfm, segments
from analytics.score_models import RfmRun
from config.clock import to_local, utcnow
from crm.scope import SYSTEM, Viewer

COHORT_MONTHS = 12


def rebuild(session: Session, now: Optional[datetime] = None, tz: Optional[str] = None, cuts: Optional[dict] = None,
            triggered_by: Optional[int] = None) -> RfmRun:
    """Rescores every customer (rfm.refresh_scores) and stores this pass's snapshot."""
    now = now or utcnow()
    run = rfm.refresh_scores(session, now, tz, cuts, triggered_by)
    today = to_local(now, tz).date()
    every = segments.Segment(kind="funnel", step="contact")
    run.snapshot = {"day": today.isoformat(), "totals": {**overview.totals(session, SYSTEM), "as_of": now.isoformat()},
                    "rfm": rfm.summary(session, segments.in_scope_scores(SYSTEM)),
                    "funnel": funnel.compute(session, SYSTEM, every),
                    "cohorts": cohorts.retention(session, SYSTEM, every, today, COHORT_MONTHS, tz)}
    session.add(run)
    session.flush()
    return run


def nightly(services) -> str:
    with services.db.write() as session:
        run = rebuild(session, services.now(), services.settings.timezone)
        return f"{run.customers} 位客户，{run.buyers} 位有购买"


CRON_SPECS = [("rfm_scores", "RFM 与生命周期评分", {"hour": 4, "minute": 40}, nightly)]


def _usable(session: Session, viewer: Viewer, seg: Optional[segments.Segment], key: str,
            today: Optional[date] = None) -> Optional[dict]:
    if not (viewer.system or viewer.has("customers.view_all")):
        return None
    if seg is not None and any((seg.channel_id, seg.scene_id, seg.group_id, seg.cohort, seg.staff_id)):
        return None
    run = rfm.last_run(session)
    snap = run.snapshot if run is not None else {}
    if key not in snap or (today is not None and snap.get("day") != today.isoformat()):
        return None
    return snap


def _read(session, viewer, seg, key: str, live: Callable, today: Optional[date] = None):
    snap = _usable(session, viewer, seg, key, today)
    return snap[key] if snap is not None else live()


def rfm_summary(session: Session, viewer: Viewer) -> list[dict]:
    return _read(session, viewer, None, "rfm", lambda: rfm.summary(session, segments.in_scope_scores(viewer)))


def funnel_steps(session: Session, viewer: Viewer, seg: segments.Segment) -> dict:
    return _read(session, viewer, seg, "funnel", lambda: funnel.compute(session, viewer, seg))


def retention(session: Session, viewer: Viewer, seg: segments.Segment, today: date, months: int,
              tz: Optional[str] = None) -> dict:
    live = lambda: cohorts.retention(session, viewer, seg, today, months, tz)  # noqa: E731
    if months != COHORT_MONTHS:
        return live()
    return _read(session, viewer, seg, "cohorts", live, today)


def totals(session: Session, viewer: Viewer) -> dict:
    """总社群数 / 总用户数 / customers / friends: the pass's figures (with "as_of") for a viewer who sees
    everyone — counting a million people per request is what the pass is for — else live."""
    return _read(session, viewer, None, "totals", lambda: overview.totals(session, viewer))
