"""后台任务的执行: an import, an export or "自动打标签 now" is submitted as a Job row and done by a
worker thread, never inside the web request, so a 100k-row file cannot time a page out.

The Job table is the truth. A worker claims a queued job with a lease (compare-and-set on the row,
so two processes never run the same job); the handler reports progress, which also renews the
lease. A job whose worker died (lease expired) is claimed again, at most MAX_ATTEMPTS times.

Other areas register their work: `register_handler("auto_tag", fn)` where
`fn(db, job, progress)` does the work and calls `progress(done, total, ok, failed)`; it may return
a dict {"message": str, "result_path": str} to store on the job.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Callable, Optional

from sqlalchemy import and_, or_, select, update

from config.db import Database
from crm.jobs.models import Job

log = logging.getLogger("ckb.jobs")

LEASE_SECONDS = 120
MAX_ATTEMPTS = 3
ATTEMPTS_KEY = "_attempts"

Progress = Callable[[int, int, int, int], None]
Handler = Callable[[Database, Job, Progress], Optional[dict]]

_HANDLERS: dict[str, Handler] = {}


class JobCancelled(Exception):
    """Raised inside progress() when the lease was lost (another worker took the job over)."""


def register_handler(kind: str, fn: Handler) -> None:
    """Registers (or replaces) the function that does jobs of `kind`."""
    _HANDLERS[kind] = fn


def registered_kinds() -> list[str]:
    return sorted(_HANDLERS)


def submit(db: Database, kind: str, params: dict, created_by: Optional[int], now=None) -> Job:
    """Queues a job in its own transaction and returns it (status queued)."""
    from config.clock import utcnow

    job = Job(kind=kind, params=dict(params or {}), created_by=created_by, status="queued",
              created_at=now or utcnow())
    with db.write() as session:
        session.add(job)
        session.flush()
        session.refresh(job)
    return job


def get_job(db: Database, job_id: int) -> Optional[Job]:
    with db.read() as session:
        return session.get(Job, job_id)


def job_status(db: Database, job_id: int) -> Optional[dict]:
    """What a progress bar needs: status, done/total, ok/failed, percent, message, result file."""
    job = get_job(db, job_id)
    if job is None:
        return None
    return status_dict(job)


def status_dict(job: Job) -> dict:
    percent = 100 if job.status == "done" else (int(job.done * 100 / job.total) if job.total else 0)
    return {"id": job.id, "kind": job.kind, "status": job.status, "total": job.total, "done": job.done,
            "ok": job.ok, "failed": job.failed, "percent": min(percent, 100), "message": job.message,
            "has_result": bool(job.result_path)}


def list_jobs(db: Database, kind: Optional[str] = None, created_by: Optional[int] = None,
              limit: int = 50) -> list[Job]:
    query = select(Job).order_by(Job.id.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    if created_by is not None:
        query = query.where(Job.created_by == created_by)
    with db.read() as session:
        return list(session.scalars(query))


def _claimable(now):
    return or_(Job.status == "queued", and_(Job.status == "running", Job.lease_until < now))


def claim_next(db: Database, now, lease_seconds: int = LEASE_SECONDS, kinds=None) -> Optional[Job]:
    """Takes the oldest claimable job: compare-and-set on its id, so racing workers never share one."""
    while True:
        with db.write() as session:
            query = select(Job.id).where(_claimable(now)).order_by(Job.id).limit(1)
            if kinds is not None:
                query = query.where(Job.kind.in_(list(kinds)))
            job_id = session.scalar(query)
            if job_id is None:
                return None
            job = session.get(Job, job_id)
            attempts = int((job.params or {}).get(ATTEMPTS_KEY, 0)) + 1
            values = {"status": "running", "lease_until": now + timedelta(seconds=lease_seconds),
                      "params": {**(job.params or {}), ATTEMPTS_KEY: attempts}}
            if job.started_at is None:
                values["started_at"] = now
            if attempts > MAX_ATTEMPTS:
                values = {"status": "failed", "finished_at": now, "lease_until": None,
                          "message": f"任务多次中断（{MAX_ATTEMPTS} 次），已停止，请检查后重新提交"}
            result = session.execute(update(Job).where(Job.id == job_id, _claimable(now)).values(**values)
                                     .execution_options(synchronize_session=False))
            if result.rowcount != 1:
                continue  # someone else took it between our read and write: try the next one
            if attempts > MAX_ATTEMPTS:
                continue
            session.expire_all()
            return session.get(Job, job_id)


def _finish(db: Database, job_id: int, now, status: str, extra: dict) -> None:
    with db.write() as session:
        session.execute(update(Job).where(Job.id == job_id).values(status=status, finished_at=now,
                                                                   lease_until=None, **extra))


def run_job(db: Database, job: Job, clock, lease_seconds: int = LEASE_SECONDS) -> str:
    """Runs one claimed job to the end; returns its final status."""
    handler = _HANDLERS.get(job.kind)
    if handler is None:
        _finish(db, job.id, clock.now(), "failed", {"message": f"没有处理「{job.kind}」任务的程序"})
        return "failed"

    def progress(done: int, total: int, ok: int = 0, failed: int = 0) -> None:
        now = clock.now()
        with db.write() as session:
            result = session.execute(
                update(Job).where(Job.id == job.id, Job.status == "running")
                .values(done=done, total=total, ok=ok, failed=failed,
                        lease_until=now + timedelta(seconds=lease_seconds)))
        if result.rowcount != 1:
            raise JobCancelled(f"job {job.id} is no longer running here")

    try:
        outcome = handler(db, job, progress) or {}
    except JobCancelled:
        return "lost"
    except Exception as exc:  # noqa: BLE001 - a failed job is recorded, the worker keeps going
        log.exception("job failed", extra={"job": job.id, "kind": job.kind})
        message = getattr(exc, "message", None) or f"任务执行出错：{type(exc).__name__}: {exc}"
        _finish(db, job.id, clock.now(), "failed", {"message": str(message)[:1000]})
        return "failed"
    extra = {k: v for k, v in outcome.items() if k in ("message", "result_path", "ok", "failed", "done", "total")}
    if "message" in extra:
        extra["message"] = str(extra["message"])[:1000]
    _finish(db, job.id, clock.now(), "done", extra)
    return "done"


class JobRunner:
    """A worker thread that runs queued jobs one at a time (start/stop), or run_pending() in tests."""

    def __init__(self, services, poll_seconds: float = 1.0, lease_seconds: int = LEASE_SECONDS):
        self.services = services
        self.poll_seconds = poll_seconds
        self.lease_seconds = lease_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def run_pending(self, limit: Optional[int] = None) -> int:
        """Claims and runs queued jobs until none is left (or `limit` ran); returns how many ran."""
        ran = 0
        while limit is None or ran < limit:
            job = claim_next(self.services.db, self.services.clock.now(), self.lease_seconds)
            if job is None:
                break
            run_job(self.services.db, job, self.services.clock, self.lease_seconds)
            ran += 1
        return ran

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_pending()
            except Exception:  # noqa: BLE001 - keep the worker alive; the lease makes a retry safe
                log.exception("job runner loop failed")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def start(self) -> "JobRunner":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="ckb-jobs", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
