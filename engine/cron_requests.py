"""立即执行: a request row per click, run once by the scheduler leader.

Clicking asks for a run by inserting a request whose `active_key` is the job key; the unique index
on it lets only one request per job be pending or running, so a second click (in any web process)
finds the first and is told 已在排队 / 正在执行. The leader claims a request with a conditional UPDATE
(pending → running, by this owner): two leaders — a split-second overlap of leases — or two
threads claiming the same row get one winner, on SQLite and PostgreSQL alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from engine.cron_models import CronRunRequest

REQUESTS = CronRunRequest.__table__
ACTIVE = ("pending", "running")
# A quick job can finish between the two clicks of a double click; a request this soon after the
# previous one of the same job is the same click, not a second run.
DOUBLE_CLICK = timedelta(seconds=5)


@dataclass(frozen=True)
class Requested:
    request_id: int
    created: bool  # False: the job already had a live request (a second click)
    status: str  # pending | running

    @property
    def message(self) -> str:
        if self.created:
            return "已提交立即执行，调度进程会在几秒内开始运行"
        if self.status in ("done", "failed"):
            return "刚刚已执行过，请查看运行记录；如需再次执行，请稍候几秒再点"
        return "该任务正在执行，请稍后查看运行记录" if self.status == "running" else "该任务已在排队，请勿重复点击"


def _live(session, key: str) -> Optional[tuple]:
    return session.execute(select(REQUESTS.c.id, REQUESTS.c.status).where(REQUESTS.c.active_key == key)).first()


def request_run(db, key: str, who: str, now: datetime) -> Requested:
    """Queues a run of `key` unless one is queued or running, or was asked for a moment ago."""
    with db.read() as s:
        live = _live(s, key) or s.execute(
            select(REQUESTS.c.id, REQUESTS.c.status).where(REQUESTS.c.job_key == key,
                                                           REQUESTS.c.requested_at > now - DOUBLE_CLICK)
            .order_by(REQUESTS.c.id.desc()).limit(1)).first()
    if live is not None:
        return Requested(live.id, False, live.status)
    try:
        with db.write() as s:
            new_id = s.execute(insert(REQUESTS).values(
                job_key=key, active_key=key, status="pending", requested_by=who[:64], requested_at=now,
                claimed_by="", note="").returning(REQUESTS.c.id)).scalar()
        return Requested(new_id, True, "pending")
    except IntegrityError:  # another click won the race between our read and insert
        with db.read() as s:
            live = _live(s, key)
        return Requested(live.id if live else 0, False, live.status if live else "running")


def pending(db, limit: int = 20) -> list[tuple]:
    with db.read() as s:
        return list(s.execute(select(REQUESTS.c.id, REQUESTS.c.job_key, REQUESTS.c.requested_by)
                              .where(REQUESTS.c.status == "pending").order_by(REQUESTS.c.id).limit(limit)).all())


def claim(db, request_id: int, owner: str, now: datetime) -> bool:
    """True for the one caller that moved the request from pending to running."""
    with db.write() as s:
        return s.execute(update(REQUESTS).where(REQUESTS.c.id == request_id, REQUESTS.c.status == "pending")
                         .values(status="running", claimed_by=owner[:128], claimed_at=now)).rowcount == 1


def finish(db, request_id: int, ok: bool, run_id: Optional[int], now: datetime, note: str = "") -> None:
    """The request is over: the job may be asked for again."""
    with db.write() as s:
        s.execute(update(REQUESTS).where(REQUESTS.c.id == request_id).values(
            status="done" if ok else "failed", active_key=None, run_id=run_id, finished_at=now, note=note[:500]))


def abandon_others(db, owner: str, now: datetime) -> int:
    """On taking the lead: requests another process was running died with it (its lease lapsed)."""
    with db.write() as s:
        return s.execute(update(REQUESTS).where(REQUESTS.c.status == "running", REQUESTS.c.claimed_by != owner)
                         .values(status="failed", active_key=None, finished_at=now,
                                 note="执行中的调度进程已停止，本次立即执行中断，请重新点击")).rowcount


def live_requests(session) -> dict[str, CronRunRequest]:
    """job key → its pending or running request, for the list page."""
    return {r.job_key: r for r in session.execute(
        select(CronRunRequest).where(CronRunRequest.status.in_(ACTIVE))).scalars()}


def recent_requests(session, key: str, limit: int = 20) -> list[CronRunRequest]:
    return list(session.execute(select(CronRunRequest).where(CronRunRequest.job_key == key)
                                .order_by(CronRunRequest.id.desc()).limit(limit)).scalars())
