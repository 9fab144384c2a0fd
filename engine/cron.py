"""The engine's own cron jobs and the CronJob shape; run only on the scheduler leader.

Times are in the configured zone (CKB_TIMEZONE). The full list — with the customer
center's auto-tag (05:30), tag expiry (00:00), grouping/allocation, recycle, task reminders and
targeted marketing — is assembled in one place: engine.crm_wiring.all_cron_jobs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from sqlalchemy import delete

from community.koc import tasks as koc_tasks
from engine.cron_clock import purge_cron_runs
from events.models import IdempotencyKey


@dataclass(frozen=True)
class CronJob:
    key: str
    name: str
    cron: dict  # APScheduler CronTrigger fields, e.g. {"hour": 3, "minute": 0}
    run: Callable  # run(runtime) -> str summary
    owner: str = ""  # the module the job belongs to (任务调度 shows it); "" = the module of `run`


def purge_idempotency_keys(runtime) -> str:
    """Idempotency-Key answers are kept 24 hours, as documented in the API quick start."""
    cutoff = runtime.services.now() - timedelta(hours=24)
    with runtime.services.db.write() as s:
        n = s.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < cutoff)).rowcount
    return f"清理过期幂等键 {n} 条"


CRON_JOBS: list[CronJob] = [
    CronJob("purge_idempotency_keys", "清理过期幂等键", {"hour": 3, "minute": 0}, purge_idempotency_keys),
    CronJob("purge_cron_runs", "清理定时作业记录", {"hour": 3, "minute": 10}, purge_cron_runs),
    CronJob("koc_tasks_check", "KOC 任务完成检查", {"minute": "*/10"}, lambda rt: koc_tasks.check_job(rt.services)),
]


def register(job: CronJob) -> None:
    """Later issues add their jobs through here, keyed by a stable key."""
    if any(j.key == job.key for j in CRON_JOBS):
        raise ValueError(f"cron job {job.key} already registered")
    CRON_JOBS.append(job)
