"""When each cron job is due, and the record of every slot: run, failed or missed.

Slots are wall-clock times in the configured zone (05:30 means 05:30 there), but the scheduler
wakes on the monotonic clock and asks `CronSlots.due` every second, so a wall clock stepped back
an hour no longer stalls every job for that hour (APScheduler 3 slept until the old wall time).
After such a step a job resumes at its next slot; one that ran less than a period ago (by the
monotonic clock) waits until a period has really passed, so 04:30 is not run twice when the wall
repeats 04:00–05:00.

Every slot leaves a CronRun row. Slots that passed while no scheduler leader was running (the
server was down) are recorded as 错过（停机） when a leader starts — a record per missed run per
job — and are not run late: a 09:00 push at 15:00 would surprise customers; operators see them
under 策略任务 → 定时作业 and can run the job by hand.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import delete, func, insert, select, update

from config.clock import as_utc
from engine.models import CronRun

RUNS = CronRun.__table__
# A job down for a week at one run a minute would add 10,080 rows; the rest are counted in the last.
MAX_MISSED_RECORDS = 200
KEEP_DAYS = 30
_TICK = timedelta(seconds=1)


class CronSlots:
    def __init__(self, cron: dict, tz: str):
        self.trigger = CronTrigger(timezone=tz, **cron)
        self.next_at: Optional[datetime] = None
        self.last_mono: Optional[float] = None

    def after(self, moment: datetime) -> Optional[datetime]:
        """The first slot at or after `moment` (aware UTC)."""
        nxt = self.trigger.get_next_fire_time(None, moment)
        return as_utc(nxt) if nxt is not None else None

    def period(self, slot: datetime) -> timedelta:
        nxt = self.after(slot + _TICK)
        return (nxt - slot) if nxt is not None else timedelta(days=366)

    def due(self, now: datetime, mono: float) -> Optional[datetime]:
        """The slot to run now, or None; `mono` is time.monotonic() (or a test's stand-in)."""
        if self.next_at is None:
            self.next_at = self.after(now)
        elif self.next_at - now > (period := self.period(self.next_at)):
            # No slot can legitimately be more than a period away: the wall clock stepped back.
            since = timedelta(seconds=mono - self.last_mono) if self.last_mono is not None else period
            self.next_at = self.after(now + max(timedelta(0), period - since))
        if self.next_at is None or now < self.next_at:
            return None
        slot = self.next_at
        self.next_at = self.after(now + _TICK)
        self.last_mono = mono
        return slot

    def missed(self, since: datetime, now: datetime) -> tuple[list[datetime], int]:
        """Slots strictly after `since` and before `now`: (the first MAX_MISSED_RECORDS, how many in all)."""
        slots, count = [], 0
        nxt = self.after(as_utc(since) + _TICK)
        while nxt is not None and nxt < now:
            count += 1
            if len(slots) < MAX_MISSED_RECORDS:
                slots.append(nxt)
            elif count > 100_000:  # a per-second job after a long outage: stop counting
                break
            nxt = self.after(nxt + _TICK)
        return slots, count


def record_missed(db, jobs: list, tz: str, now: datetime, worker: str) -> int:
    """On becoming leader: a `missed` row for every slot of every job since its last recorded
    slot. A job never recorded before (first start, new job) has nothing to compare with."""
    with db.read() as s:
        # A 立即执行 run is not a slot: it must not hide the slots missed before it.
        last = dict(s.execute(select(RUNS.c.job_key, func.max(RUNS.c.slot_at)).where(RUNS.c.trigger == "schedule")
                              .group_by(RUNS.c.job_key)).all())
    rows = []
    for job in jobs:
        if job.key not in last:
            continue
        slots, count = CronSlots(job.cron, tz).missed(last[job.key], now)
        for i, slot in enumerate(slots):
            extra = count - len(slots) if i == len(slots) - 1 and count > len(slots) else 0
            rows.append({"job_key": job.key, "job_name": job.name, "slot_at": slot, "status": "missed",
                         "trigger": "schedule", "requested_by": "",
                         "summary": "服务停止期间未运行" + (f"（另有 {extra} 次错过，未逐条记录）" if extra else ""),
                         "worker": worker, "started_at": None, "finished_at": None})
    if rows:
        with db.write() as s:
            s.execute(insert(RUNS), rows)
    return len(rows)


def begin_run(db, job, slot: datetime, now: datetime, worker: str, trigger: str = "schedule",
              requested_by: str = "") -> int:
    with db.write() as s:
        return s.execute(insert(RUNS).values(job_key=job.key, job_name=job.name, slot_at=slot, status="running",
                                             started_at=now, finished_at=None, summary="", worker=worker,
                                             trigger=trigger, requested_by=requested_by[:64])
                         .returning(RUNS.c.id)).scalar()


def end_run(db, run_id: int, ok: bool, summary: str, now: datetime) -> None:
    with db.write() as s:
        s.execute(update(RUNS).where(RUNS.c.id == run_id)
                  .values(status="done" if ok else "failed", summary=str(summary or "")[:500], finished_at=now))


def recent_runs(session, limit: int = 50, status: Optional[str] = None) -> list[CronRun]:
    """定时作业 on the 策略任务 page: the latest slots, missed ones included."""
    stmt = select(CronRun).order_by(CronRun.slot_at.desc(), CronRun.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(CronRun.status == status)
    return list(session.execute(stmt).scalars())


def missed_count(session, days: int = 7) -> int:
    """Missed slots of the last week, for the badge beside 定时作业记录."""
    since = (session.execute(select(func.max(RUNS.c.slot_at))).scalar() or datetime.min)
    if since is datetime.min:
        return 0
    return session.execute(select(func.count()).select_from(RUNS).where(
        RUNS.c.status == "missed", RUNS.c.slot_at >= as_utc(since) - timedelta(days=days))).scalar() or 0


def purge_cron_runs(runtime) -> str:
    cutoff = runtime.services.now() - timedelta(days=KEEP_DAYS)
    with runtime.services.db.write() as s:
        n = s.execute(delete(RUNS).where(RUNS.c.slot_at < cutoff)).rowcount
    return f"清理 {KEEP_DAYS} 天前的定时作业记录 {n} 条"
