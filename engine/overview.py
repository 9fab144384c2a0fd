"""首页 overview: today's numbers of events, matches and step runs, in one read."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from engine.models import StrategyRun, StrategyTask
from engine.tasks import status_counts
from events.models import EventRecord


def today_counts(session: Session, since: datetime) -> dict:
    E = EventRecord
    by_status = dict(session.execute(select(E.status, func.count()).where(E.received_at >= since)
                                     .group_by(E.status)).all())
    matched = session.execute(select(func.count()).select_from(StrategyRun)
                              .where(StrategyRun.created_at >= since, StrategyRun.matched.is_(True))).scalar() or 0
    steps = status_counts(session, since)
    delayed = session.execute(select(func.count()).select_from(StrategyTask)
                              .where(StrategyTask.status.in_(("pending", "failed")),
                                     StrategyTask.timing != "immediate")).scalar() or 0
    dead_total = session.execute(select(func.count()).select_from(StrategyTask)
                                 .where(StrategyTask.status == "dead")).scalar() or 0
    return {
        "received": sum(by_status.values()), "accepted": by_status.get("accepted", 0),
        "rejected": by_status.get("rejected", 0), "matched": matched,
        "done": steps.get("done", 0), "failed": steps.get("failed", 0), "dead": steps.get("dead", 0),
        "pending_delayed": delayed, "dead_total": dead_total,
    }
