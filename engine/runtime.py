"""The engine runtime: services, processor registry, matcher, dispatcher and scheduler together.

One Runtime lives in each process: the web server (one-process mode runs everything), a
`cunkebao worker` (dispatcher + task executor) or a `cunkebao scheduler` (cron leader).
`tick()` runs everything synchronously — tests use it with a ManualClock.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Optional

from config.services import Services
from config.settings import Settings
from crm.jobs.runner import JobRunner
from engine.dispatcher import Dispatcher
from engine.executor import TaskExecutor
from engine.matcher import build_matcher
from engine.scheduler import Scheduler
from engine.strategy_set import StrategySet
from events.catalog import Catalog
from events.ingestion import Ingestor
from handlers.registry import default_registry

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
        self._executor_threads = executor_threads
        self._pool: Optional[ThreadPoolExecutor] = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

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
        """Runs claimed tasks in batches (one recording transaction each) on the step pool."""
        for start in range(0, len(task_ids), STEP_BATCH):
            chunk = task_ids[start:start + STEP_BATCH]
            if self._pool is None:
                self.executor.execute_many(chunk)
            else:
                self._pool.submit(self._safe_execute, chunk)

    def submit_claimed(self, steps: list) -> None:
        """Runs the dispatcher's freshly claimed immediate steps (rows in memory) in batches."""
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
        except Exception:  # noqa: BLE001 - the leases expire and the sweep retries them
            log.exception("task execution failed", extra={"tasks": len(batch)})

    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                count, steps = self.dispatcher.run_once()
                self.submit_claimed(steps)
            except Exception:  # noqa: BLE001 - keep dispatching; claims expire and are retried
                log.exception("dispatch failed")
                count = 0
            if count == 0:
                self._wake.wait(timeout=0.5)
                self._wake.clear()

    def start(self, dispatch: bool = True, sweep: bool = True, cron: bool = True) -> None:
        self.strategies.refresh(force=True)
        self._pool = ThreadPoolExecutor(max_workers=self._executor_threads, thread_name_prefix="ckb-step")
        if dispatch:
            t = threading.Thread(target=self._dispatch_loop, name="ckb-dispatch", daemon=True)
            t.start()
            self._threads.append(t)
            self.jobs.start()
        if sweep or cron:
            self.scheduler.start(sweep=sweep, cron=cron)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self.scheduler.stop()
        self.jobs.stop()
        for t in self._threads:
            t.join(timeout=5)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

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
