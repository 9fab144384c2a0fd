"""The engine runtime: services, processor registry, matcher, dispatcher and scheduler together.

One Runtime lives in each process: the web server (one-process mode runs everything), a
`cunkebao worker` (dispatcher + task executor) or a `cunkebao scheduler` (cron leader).
`tick()` runs everything synchronously — tests use it with a ManualClock.
"""
from __future__ import annotations

import gc
import logging
import os
import queue
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, Optional

from config.services import Services
from config.settings import Settings
from crm.jobs.runner import JobRunner
from engine.dispatcher import Dispatcher
from engine.executor import HANDED_BACK_NOTE, TaskExecutor
from engine.heartbeats import ProcessBeacon
from engine.ledger import extend_leases, release_tasks
from engine.matcher import build_matcher
from engine.scheduler import HOLD_PER_THREAD, Scheduler
from engine.strategy_set import StrategySet
from engine.wakeup import EventsStoredSignal
from events.catalog import Catalog
from events.ingestion import Ingestor
from handlers.registry import default_registry
from integrations.mp import runtime as mp_runtime

log = logging.getLogger("ckb.runtime")
# Steps per recording transaction: big enough to amortise the per-batch read and commit (16 → 64
# took bench/ingest.py end to end from 692 to 811 events/s at 1,000/s offered), small enough that
# a slow processor (an HTTP call near its timeout) holds up only one batch's bookkeeping.
STEP_BATCH = 64


def run_batches(steps: list, size: int) -> list[list]:
    """Batches of about `size` (task, record) pairs that never split one strategy run: a run's
    immediate steps then execute in order on one thread (识别客户 before 分配, for example),
    where splitting them let two executor threads run a later step first."""
    batches: list[list] = []
    for item in steps:
        task = item[0]
        if batches and (len(batches[-1]) < size or _same_run(batches[-1][-1][0], task)):
            batches[-1].append(item)
        else:
            batches.append([item])
    return batches


def _same_run(a, b) -> bool:
    return a.event_record_id == b.event_record_id and a.strategy_id == b.strategy_id


class Runtime:
    def __init__(self, services: Services, registry=None, matcher=None, executor_threads: int = 4,
                 extra_cron_jobs: tuple = ()):
        self.services = services
        mp_runtime.bind(services)  # a 公众号 reply sent by a strategy reaches the secret box and settings
        self.extra_cron_jobs = tuple(extra_cron_jobs)  # e.g. the device layer's, added by web
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.catalog = Catalog(services)
        self.registry = registry or default_registry(services)
        self.matcher = matcher or build_matcher(prefer_durable=services.settings.engine_use_durable_rules)
        self.strategies = StrategySet(services, self.matcher)
        self.ingestor = Ingestor(services, self.catalog, on_stored=self._events_stored)
        self.dispatcher = Dispatcher(self)
        self.executor = TaskExecutor(self)
        self.scheduler = Scheduler(self)
        self.jobs = JobRunner(services)  # imports, exports, "run now" jobs of the customer center
        self.executor_threads = executor_threads
        self.background = False  # start() was called: steps run on the pool, leases are heartbeated
        self._pool: Optional[ThreadPoolExecutor] = None
        self._wake = threading.Event()
        self._to_record: queue.Queue = queue.Queue(maxsize=1)  # prepared batches, dispatch → recorder
        # Idle, the dispatch loop looks for new events this often even if no wake-up came (the
        # fallback: engine.wakeup wakes it when any process stores events).
        self.idle_poll_seconds = 0.5
        self.stored_signal = EventsStoredSignal(services.db, self._wake)
        self._stop = threading.Event()
        self._beat_stop = threading.Event()  # the heartbeat outlives the drain: held steps keep their lease
        self._threads: list[threading.Thread] = []
        # What this process does (dispatch, sweep, cron, web) and its beacon for 系统监控 and /readyz;
        # beacon_info holds figures the beat carries (web adds the gateway's connections).
        self.roles: set[str] = set()
        self.beacon: Optional[ProcessBeacon] = None
        self.beacon_info: dict = {"held_steps": lambda: len(self.executor.held)}

    @classmethod
    def from_settings(cls, settings: Settings, clock: Optional[Any] = None, **kw) -> "Runtime":
        return cls(Services.from_settings(settings, clock=clock), **kw)

    @property
    def settings(self) -> Settings:
        return self.services.settings

    # -- edits made through this process apply at once --------------------------------------
    def invalidate(self) -> None:
        self.catalog.invalidate()
        self.registry.invalidate()
        self.strategies.refresh(force=True)

    # -- background mode ----------------------------------------------------------------------
    def _events_stored(self, _ids) -> None:
        self._wake.set()

    def submit(self, task_ids: list[int]) -> None:
        """Runs claimed tasks in batches on the step pool (each step recorded as it goes)."""
        self.executor.held.add(task_ids)  # from the claim on: heartbeated, released on shutdown
        for start in range(0, len(task_ids), STEP_BATCH):
            chunk = task_ids[start:start + STEP_BATCH]
            if self._pool is None:
                self.executor.execute_many(chunk)
            else:
                self._pool.submit(self._safe_execute, chunk)

    def submit_claimed(self, steps: list) -> None:
        """Runs the dispatcher's freshly claimed immediate steps (rows in memory) in batches."""
        self.executor.held.add(task.id for task, _ in steps)
        for chunk in run_batches(steps, STEP_BATCH):
            if self._pool is None:
                self.executor.execute_claimed(chunk)
            else:
                self._pool.submit(self._safe_execute, chunk, True)

    def _safe_execute(self, batch: list, claimed: bool = False) -> None:
        try:
            if claimed:
                self.executor.execute_claimed(batch)
            else:
                self.executor.execute_many(batch)
        except Exception:  # noqa: BLE001 - let their leases expire; any sweep (ours too) retries them
            log.exception("task execution failed", extra={"tasks": len(batch)})
            self.executor.held.discard(item[0].id if claimed else item for item in batch)

    def _heartbeat_loop(self) -> None:
        """Every lease/3: extend the lease of every step this process holds, so a step that is
        slow (or queued behind slow ones) is never taken as abandoned while we work on it — and a
        dead process's steps, no longer extended, are claimable within one lease (30 s)."""
        lease = self.settings.task_lease_seconds
        while not self._beat_stop.wait(max(lease / 3, 0.2)):
            held = self.executor.held.snapshot()
            if not held:
                continue
            try:
                extend_leases(self.services.db, self.owner, held, self.services.now() + timedelta(seconds=lease))
            except Exception:  # noqa: BLE001 - the next beat tries again, well before the lease ends
                log.exception("lease heartbeat failed", extra={"tasks": len(held)})

    def _dispatch_loop(self) -> None:
        """Claims and matches batches; the recorder thread writes them, so batch N+1 is claimed and
        matched while batch N's transaction waits for the write lock and the disk (one thread
        doing both left the CPU idle for half of each cycle under load)."""
        while not self._stop.is_set():
            if len(self.executor.held) > 4 * HOLD_PER_THREAD * self.executor_threads:
                self._stop.wait(0.05)  # the steps we hold come first; events wait stored, not claimed
                continue
            try:
                batch = self.dispatcher.prepare()
            except Exception:  # noqa: BLE001 - keep dispatching; claims expire and are retried
                log.exception("dispatch failed")
                batch = None
            if batch is None:
                self.stored_signal.wait(self.idle_poll_seconds)
            else:
                self._to_record.put(batch)  # bounded: matching runs at most one batch ahead

    def _record_loop(self, dispatching: threading.Thread) -> None:
        """Writes prepared batches and hands their claimed steps to the pool; it outlives the
        dispatch loop until every batch that loop prepared is written (their pure steps ran)."""
        while True:
            try:
                batch = self._to_record.get(timeout=0.1)
            except queue.Empty:
                if not dispatching.is_alive():
                    return
                continue
            try:
                self.submit_claimed(self.dispatcher.record(batch))
            except Exception:  # noqa: BLE001 - its claims expire and the events are dispatched again
                log.exception("recording a dispatched batch failed")

    def start_beacon(self, roles=()) -> None:
        """Adds `roles` to what this process does and keeps its heartbeat row fresh."""
        self.roles |= set(roles)
        if self.beacon is None:
            self.beacon = ProcessBeacon(self.services, self.owner, self.roles,
                                        is_leader=lambda: self.scheduler.is_leader, info=self.beacon_info)
            self.beacon.start()
        else:
            self.beacon.roles = set(self.roles)

    def start(self, dispatch: bool = True, sweep: bool = True, cron: bool = True) -> None:
        self.strategies.refresh(force=True)
        # What is loaded by now (models, compiled strategies and templates, the matcher's sets)
        # lives as long as the process: frozen, the cyclic collector stops walking it on every
        # older-generation pass. The dispatcher allocates a few dicts per step, so those passes
        # are frequent: they took a quarter of its CPU (measured in process: 0.8 s of 3 s for
        # 4,000 events), a tenth after the freeze. stop() thaws it, so what this runtime held
        # becomes collectable again (tests start and stop many runtimes in one process).
        gc.collect()
        gc.freeze()
        self.background = True
        self.executor.draining.clear()
        self._beat_stop.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.executor_threads, thread_name_prefix="ckb-step")
        beat = threading.Thread(target=self._heartbeat_loop, name="ckb-heartbeat", daemon=True)
        beat.start()
        if dispatch:
            self.stored_signal.start()
            t = threading.Thread(target=self._dispatch_loop, name="ckb-dispatch", daemon=True)
            recorder = threading.Thread(target=self._record_loop, args=(t,), name="ckb-dispatch-record", daemon=True)
            t.start()
            recorder.start()
            self._threads += [t, recorder]  # joined in this order on stop
            self.jobs.start()
        if sweep or cron:
            self.scheduler.start(sweep=sweep, cron=cron)
        self.start_beacon({r for r, on in (("dispatch", dispatch), ("sweep", sweep), ("cron", cron)) if on})

    def stop(self, drain_seconds: float = 0.0) -> None:
        """Stops claiming, lets steps in progress finish for up to `drain_seconds`, hands every
        claimed step not yet started back to the queue (no attempt spent) and releases the
        leader lease. A step still running at the deadline keeps its lease until this process
        exits; then another worker takes it over (history shows the attempt as 中断)."""
        deadline = time.monotonic() + drain_seconds
        self._stop.set()
        self._wake.set()
        self.executor.draining.set()  # queued batches hand their steps back instead of running them
        self.scheduler.stop(timeout=max(1.0, min(10.0, drain_seconds)))
        self.jobs.stop()
        for t in self._threads:
            t.join(timeout=max(0.0, min(5.0, deadline - time.monotonic())))
        self.stored_signal.stop()
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            while len(self.executor.held) > len(self.executor.in_flight) and time.monotonic() < deadline:
                time.sleep(0.05)
            while self.executor.in_flight and time.monotonic() < deadline:
                time.sleep(0.05)
            self._pool = None
        left = [i for i in self.executor.held.snapshot() if i not in self.executor.in_flight]
        if left:
            try:
                n = release_tasks(self.services.db, self.owner, left, HANDED_BACK_NOTE)
                log.info("claimed steps handed back on shutdown", extra={"tasks": n})
            except Exception:  # noqa: BLE001 - their leases run out instead
                log.exception("handing back claimed steps failed")
            self.executor.held.discard(left)
        if not self.executor.in_flight:
            self._beat_stop.set()
        if self.beacon is not None:
            self.beacon.stop()
            self.beacon = None
        gc.unfreeze()

    # -- synchronous mode (tests, CLI) ----------------------------------------------------------
    def tick(self, rounds: int = 100) -> dict:
        """Dispatches every pending event and runs every due task, until nothing is left."""
        self.strategies.refresh(force=True)
        totals = {"events": 0, "tasks": 0}
        for _ in range(rounds):
            count, steps = self.dispatcher.run_once()
            for chunk in run_batches(steps, STEP_BATCH):
                self.executor.execute_claimed(chunk)
            task_ids = self.scheduler.sweep()
            for start in range(0, len(task_ids), STEP_BATCH):
                self.executor.execute_many(task_ids[start:start + STEP_BATCH])
            totals["events"] += count
            totals["tasks"] += len(steps) + len(task_ids)
            if not count and not steps and not task_ids:
                break
        return totals
