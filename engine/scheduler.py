"""Timing: APScheduler fires the due-task sweep and the cron jobs; the StrategyTask table is the truth.

Every worker sweeps (claims are safe across processes); only the leader runs cron jobs.
"""
from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from engine.crm_wiring import all_cron_jobs
from engine.leader import LeaderLease
from engine.ledger import claim_due_tasks

log = logging.getLogger("ckb.scheduler")


class Scheduler:
    def __init__(self, runtime):
        self.runtime = runtime
        self.lease = LeaderLease(runtime.services, runtime.owner)
        self.is_leader = False
        self._aps: BackgroundScheduler | None = None

    def sweep(self, limit: int = 200) -> list[int]:
        """Claims due (and lease-expired) tasks for this process; returns their ids."""
        rt = self.runtime
        return claim_due_tasks(rt.services.db, rt.services.now(), rt.settings.task_lease_seconds, rt.owner, limit)

    def _sweep_job(self) -> None:
        try:
            self.runtime.submit(self.sweep())
        except Exception:  # noqa: BLE001 - a failed sweep is retried at the next tick
            log.exception("sweep failed")

    def _elect(self) -> None:
        was = self.is_leader
        self.is_leader = self.lease.acquire()
        if self.is_leader != was:
            log.info("scheduler leadership changed", extra={"leader": self.is_leader, "owner": self.runtime.owner})

    def _cron(self, job) -> None:
        if not self.is_leader:
            return
        try:
            log.info("cron job done", extra={"job": job.key, "summary": job.run(self.runtime)})
        except Exception:  # noqa: BLE001 - logged; the next run tries again
            log.exception("cron job failed", extra={"job": job.key})

    def start(self, sweep: bool = True, cron: bool = True) -> None:
        tz = self.runtime.settings.timezone
        aps = BackgroundScheduler(timezone=tz, job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
        if sweep:
            aps.add_job(self._sweep_job, "interval", seconds=self.runtime.settings.scheduler_sweep_seconds, id="sweep")
        if cron:
            self._elect()
            aps.add_job(self._elect, "interval", seconds=max(self.lease.ttl // 3, 1), id="elect")
            for job in all_cron_jobs(self.runtime.settings, self.runtime.extra_cron_jobs):
                aps.add_job(self._cron, CronTrigger(timezone=tz, **job.cron), args=[job], id=f"cron:{job.key}")
        aps.start()
        self._aps = aps

    def stop(self) -> None:
        if self._aps is not None:
            self._aps.shutdown(wait=False)
            self._aps = None
        if self.is_leader:
            self.lease.release()
            self.is_leader = False
