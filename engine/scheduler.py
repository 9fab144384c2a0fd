"""Timing: one loop fires the due-task sweep, the leader election and the cron jobs; the
StrategyTask table is the truth.

The loop waits on threading.Event (CLOCK_MONOTONIC since Python 3.11) at most a second at a
time and re-queries due work on every wake, so a wall clock stepped back never stalls delayed
steps, retries or cron (APScheduler 3 slept until the old wall time: an hour after a −1 h step).
Cron slots themselves are wall-clock times in the configured zone (engine.cron_clock).

Every worker sweeps (claims are safe across processes); only the leader runs cron jobs.
Schedules come from 任务调度 (engine.cron_registry): every CONTROL_SECONDS the loop reads the
config version and re-times its jobs when it moved, and the leader runs 立即执行 requests.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Optional

from engine import cron_requests
from engine.cron_clock import CronSlots, begin_run, end_run, record_missed
from engine.cron_registry import catalog, current_version
from engine.crm_wiring import all_cron_jobs
from engine.leader import LeaderLease
from engine.ledger import claim_due_tasks

log = logging.getLogger("ckb.scheduler")
MAX_WAIT_SECONDS = 1.0
CONTROL_SECONDS = 1.0  # how soon a saved schedule or a 立即执行 click reaches the leader
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
        self._jobs: list = []  # enabled, with their effective schedules
        self._code_jobs: list = []  # as registered in code (defaults)
        self._by_key: dict = {}  # every job, enabled or not, for 立即执行
        self._version: Optional[int] = None
        self.timing = False  # started with cron: this process times the jobs
        self._from_registry = False  # code defaults re-read from the settings on every reload
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

    def reload(self) -> bool:
        """Re-reads schedules and registered jobs (任务调度); a job whose schedule is unchanged keeps
        its timing. Called by the process that saved a change, and by the loop when the stored
        version moved. False when the database could not be read (the jobs stay as they were)."""
        if not self.timing:
            return False
        try:
            if self._from_registry:  # a default read from a setting (自动打标签) follows the setting
                self._code_jobs = all_cron_jobs(self.runtime.settings, self.runtime.extra_cron_jobs)
            with self.runtime.services.db.read() as s:
                version = current_version(s)
                entries = catalog(s, self._code_jobs)
        except Exception:  # noqa: BLE001 - keep timing the jobs we have
            log.exception("reading cron schedules failed")
            return False
        old = {job.key: job.cron for job in self._jobs}
        self._by_key = {e.key: e.job for e in entries}
        self._jobs = [e.job for e in entries if e.enabled]
        self._slots = {k: v for k, v in self._slots.items() if k in self._by_key and old.get(k) == self._by_key[k].cron}
        self._version = version
        return True

    def control_tick(self) -> list[str]:
        """Picks up a changed configuration, then (leader only) runs 立即执行 requests; returns the
        keys of the jobs started by request."""
        try:
            with self.runtime.services.db.read() as s:
                version = current_version(s)
        except Exception:  # noqa: BLE001 - the next tick asks again
            log.exception("reading the cron config version failed")
            return []
        if version != self._version:
            self.reload()
        return self.run_requests() if self.is_leader else []

    def run_requests(self) -> list[str]:
        """Claims and starts every pending 立即执行 request; a job already running waits its turn."""
        svc, owner, started = self.runtime.services, self.runtime.owner, []
        for req in cron_requests.pending(svc.db):
            job = self._by_key.get(req.job_key)
            if job is None:
                if cron_requests.claim(svc.db, req.id, owner, svc.now()):
                    cron_requests.finish(svc.db, req.id, False, None, svc.now(), "任务已删除，未执行")
                continue
            with self._running_lock:
                if job.key in self._running:
                    continue
                if not cron_requests.claim(svc.db, req.id, owner, svc.now()):
                    continue
                self._running.add(job.key)
            self._submit(self._run_requested, job, req.id, req.requested_by)
            started.append(job.key)
        return started

    def _run_requested(self, job, request_id: int, who: str) -> None:
        svc = self.runtime.services
        try:
            run_id, ok = self._cron(job, None, trigger="manual", requested_by=who)
            cron_requests.finish(svc.db, request_id, ok, run_id, svc.now())
        except Exception:  # noqa: BLE001 - the request must not stay running forever
            log.exception("finishing a run request failed", extra={"job": job.key})
            cron_requests.finish(svc.db, request_id, False, None, svc.now(), "执行记录失败")
        finally:
            with self._running_lock:
                self._running.discard(job.key)

    def _submit(self, fn, *args) -> None:
        if self._cron_pool is None:
            fn(*args)
        else:
            future = self._cron_pool.submit(fn, *args)
            self._futures.add(future)
            future.add_done_callback(self._futures.discard)

    def _took_lead(self) -> None:
        """Slots nobody ran while no leader was up are recorded as missed; timing starts afresh."""
        rt = self.runtime
        try:
            cron_requests.abandon_others(rt.services.db, rt.owner, rt.services.now())
        except Exception:  # noqa: BLE001
            log.exception("releasing abandoned run requests failed")
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
            self._submit(self._run_job, job, slot)
            ran.append(job.key)
        return ran

    def _run_job(self, job, slot) -> None:
        try:
            self._cron(job, slot)
        finally:
            with self._running_lock:
                self._running.discard(job.key)

    def _cron(self, job, slot=None, trigger: str = "schedule", requested_by: str = "") -> tuple[Optional[int], bool]:
        """Runs the job once and records it; (the CronRun id, whether it succeeded)."""
        if not self.is_leader:
            return None, False
        svc, owner = self.runtime.services, self.runtime.owner
        run_id = None
        try:
            run_id = begin_run(svc.db, job, slot or svc.now(), svc.now(), owner, trigger, requested_by)
            summary = job.run(self.runtime)
            log.info("cron job done", extra={"job": job.key, "summary": summary})
            end_run(svc.db, run_id, True, summary, svc.now())
            return run_id, True
        except Exception as exc:  # noqa: BLE001 - logged and recorded; the next slot tries again
            log.exception("cron job failed", extra={"job": job.key})
            if run_id is not None:
                try:
                    end_run(svc.db, run_id, False, getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}",
                            svc.now())
                except Exception:  # noqa: BLE001
                    log.exception("recording the cron failure failed", extra={"job": job.key})
            return run_id, False

    def _loop(self, sweep: bool, cron: bool) -> None:
        settings = self.runtime.settings
        next_sweep = next_elect = next_control = time.monotonic()
        while not self._stop.is_set():
            mono = time.monotonic()
            if sweep and mono >= next_sweep:
                self._sweep_job()
                next_sweep = time.monotonic() + settings.scheduler_sweep_seconds
            if cron and mono >= next_elect:
                self._elect()
                next_elect = time.monotonic() + max(self.lease.ttl / 3, 1)
            if cron and mono >= next_control:
                try:
                    self.control_tick()
                except Exception:  # noqa: BLE001 - keep the loop alive
                    log.exception("cron control tick failed")
                next_control = time.monotonic() + CONTROL_SECONDS
            if cron:
                try:
                    self.cron_tick()
                except Exception:  # noqa: BLE001 - keep the loop alive whatever a job does
                    log.exception("cron tick failed")
            waits = [MAX_WAIT_SECONDS] + ([next_sweep - time.monotonic()] if sweep else [])
            self._stop.wait(max(0.01, min(waits)))

    def start(self, sweep: bool = True, cron: bool = True) -> None:
        self._code_jobs = all_cron_jobs(self.runtime.settings, self.runtime.extra_cron_jobs) if cron else []
        self._jobs, self._by_key = list(self._code_jobs), {job.key: job for job in self._code_jobs}
        self.timing = self._from_registry = cron
        self.reload()
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
        if self.timing:
            # Also when the loop had not yet won (or lost) an election: release() gives up only
            # what this owner holds, and closes the PostgreSQL session the attempt opened.
            self.lease.release()
        self.is_leader = False
