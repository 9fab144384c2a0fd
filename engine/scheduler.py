"""Timing: one loop fires the due-task sweep, the leader election and the cron jobs; the
StrategyTask table is the truth.

The loop waits on threading.Event (CLOCK_MONOTONIC since Python 3.11) at most a second at a
time and re-queries due work on every wake, so a wall clock stepped back never stalls delayed
steps, retries or cron (APScheduler 3 slept until the old wall time: an hour after a −1 h step).
Cron slots themselves are wall-clock times in the configured zone (engine.cron_clock).

Every worker sweeps (claims are safe across processes); only the leader runs cron jobs.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Optional

from engine.cron_clock import CronSlots, begin_run, end_run, record_missed
from engine.crm_wiring import all_cron_jobs
from engine.leader import LeaderLease
from engine.ledger import claim_due_tasks

log = logging.getLogger("ckb.scheduler")
MAX_WAIT_SECONDS = 1.0
# Claimed-but-unfinished steps a process may hold before its sweep stops claiming more (the
# rest stay claimable by idle workers instead of queueing here under a heartbeat-kept lease).
HOLD_PER_THREAD = 128


class Scheduler:
    def __init__(self, runtime):
        self.runtime = runtime
        self.lease = LeaderLease(runtime.services, runtime.owner)
        self.is_leader = False
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self._slots: dict[str, CronSlots] = {}
        self._jobs: list = []
        # Cron jobs run beside the loop (an auto-tag run of minutes must not hold up the sweep);
        # one instance per job at a time, as APScheduler's max_instances=1 did.
        self._cron_pool: Optional[ThreadPoolExecutor] = None
        self._running: set[str] = set()
        self._running_lock = threading.Lock()
        self._futures: set = set()

    @property
    def jobs(self) -> list:
        """The cron jobs this scheduler times (after start with cron)."""
        return list(self._jobs)

    def sweep(self, limit: int = 200) -> list[int]:
        """Claims due (and lease-expired) tasks for this process; returns their ids. Never takes
        back a task this process still holds (its lease is only late because we are busy)."""
        rt = self.runtime
        held = rt.executor.held.snapshot()
        if rt.background:
            limit = min(limit, max(0, HOLD_PER_THREAD * rt.executor_threads - len(held)))
            if not limit:
                return []
        return claim_due_tasks(rt.services.db, rt.services.now(), rt.settings.task_lease_seconds, rt.owner, limit,
                               exclude=held)

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
            if self.is_leader:
                self._took_lead()

    def _took_lead(self) -> None:
        """Slots nobody ran while no leader was up are recorded as missed; timing starts afresh."""
        rt = self.runtime
        self._slots = {job.key: CronSlots(job.cron, rt.settings.timezone) for job in self._jobs}
        try:
            n = record_missed(rt.services.db, self._jobs, rt.settings.timezone, rt.services.now(), rt.owner)
            if n:
                log.warning("cron slots missed while no scheduler ran", extra={"missed": n})
        except Exception:  # noqa: BLE001 - bookkeeping; the jobs themselves still run
            log.exception("recording missed cron slots failed")

    def cron_tick(self, mono: Optional[float] = None) -> list[str]:
        """Runs every job whose slot has come (leader only); returns their keys."""
        if not self.is_leader:
            return []
        now, mono = self.runtime.services.now(), time.monotonic() if mono is None else mono
        ran = []
        for job in self._jobs:
            slots = self._slots.get(job.key)
            if slots is None:  # built once per job: a CronTrigger each tick was pure waste
                slots = self._slots[job.key] = CronSlots(job.cron, self.runtime.settings.timezone)
            slot = slots.due(now, mono)
            if slot is None:
                continue
            with self._running_lock:
                if job.key in self._running:
                    log.warning("cron job still running; slot skipped", extra={"job": job.key})
                    continue
                self._running.add(job.key)
            if self._cron_pool is None:
                self._run_job(job, slot)
            else:
                future = self._cron_pool.submit(self._run_job, job, slot)
                self._futures.add(future)
                future.add_done_callback(self._futures.discard)
            ran.append(job.key)
        return ran

    def _run_job(self, job, slot) -> None:
        try:
            self._cron(job, slot)
        finally:
            with self._running_lock:
                self._running.discard(job.key)

    def _cron(self, job, slot=None) -> None:
        if not self.is_leader:
            return
        svc, owner = self.runtime.services, self.runtime.owner
        run_id = None
        try:
            run_id = begin_run(svc.db, job, slot or svc.now(), svc.now(), owner)
            summary = job.run(self.runtime)
            log.info("cron job done", extra={"job": job.key, "summary": summary})
            end_run(svc.db, run_id, True, summary, svc.now())
        except Exception as exc:  # noqa: BLE001 - logged and recorded; the next slot tries again
            log.exception("cron job failed", extra={"job": job.key})
            if run_id is not None:
                try:
                    end_run(svc.db, run_id, False, f"{type(exc).__name__}: {exc}", svc.now())
                except Exception:  # noqa: BLE001
                    log.exception("recording the cron failure failed", extra={"job": job.key})

    def _loop(self, sweep: bool, cron: bool) -> None:
        settings = self.runtime.settings
        next_sweep = next_elect = time.monotonic()
        while not self._stop.is_set():
            mono = time.monotonic()
            if sweep and mono >= next_sweep:
                self._sweep_job()
                next_sweep = time.monotonic() + settings.scheduler_sweep_seconds
            if cron and mono >= next_elect:
                self._elect()
                next_elect = time.monotonic() + max(self.lease.ttl / 3, 1)
            if cron:
                try:
                    self.cron_tick()
                except Exception:  # noqa: BLE001 - keep the loop alive whatever a job does
                    log.exception("cron tick failed")
            waits = [MAX_WAIT_SECONDS] + ([next_sweep - time.monotonic()] if sweep else [])
            self._stop.wait(max(0.01, min(waits)))

    def start(self, sweep: bool = True, cron: bool = True) -> None:
        self._jobs = all_cron_jobs(self.runtime.settings, self.runtime.extra_cron_jobs) if cron else []
        self._stop.clear()
        if cron:
            self._cron_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ckb-cron")
        self._thread = threading.Thread(target=self._loop, args=(sweep, cron), name="ckb-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stops timing; cron jobs in progress get up to `timeout` seconds to finish. One still
        running after that is left to the process exit (its CronRun row stays `running`; its work
        is transactional or re-done by the next slot)."""
        deadline = time.monotonic() + timeout
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
        if self._cron_pool is not None:
            wait(list(self._futures), timeout=max(0.0, deadline - time.monotonic()))
            self._cron_pool.shutdown(wait=False, cancel_futures=True)
            self._cron_pool = None
        if self._jobs:
            # Also when the loop had not yet won (or lost) an election: release() gives up only
            # what this owner holds, and closes the PostgreSQL session the attempt opened.
            self.lease.release()
        self.is_leader = False
