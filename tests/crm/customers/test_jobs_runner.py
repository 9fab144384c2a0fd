"""The background job runner: progress, results, failures, leases across workers."""
from __future__ import annotations

from datetime import timedelta

from crm.jobs import runner
from crm.jobs.models import Job


def test_job_runs_with_progress_and_result(services):
    seen = []

    def handler(db, job, progress):
        for i in range(1, 4):
            progress(i, 3, i, 0)
            seen.append(runner.job_status(db, job.id)["percent"])
        return {"message": "完成 3 条", "result_path": "exports/x.csv"}

    runner.register_handler("test_ok", handler)
    job = runner.submit(services.db, "test_ok", {"a": 1}, created_by=None, now=services.now())
    assert runner.job_status(services.db, job.id)["status"] == "queued"
    assert runner.JobRunner(services).run_pending() == 1
    status = runner.job_status(services.db, job.id)
    assert seen == [33, 66, 100]
    assert status["status"] == "done" and status["done"] == 3 and status["ok"] == 3
    assert status["message"] == "完成 3 条" and status["has_result"]


def test_failure_is_recorded_and_worker_continues(services):
    def boom(db, job, progress):
        raise ValueError("坏了")

    runner.register_handler("test_boom", boom)
    runner.register_handler("test_ok2", lambda db, job, progress: None)
    a = runner.submit(services.db, "test_boom", {}, None)
    b = runner.submit(services.db, "test_ok2", {}, None)
    assert runner.JobRunner(services).run_pending() == 2
    assert runner.get_job(services.db, a.id).status == "failed"
    assert "坏了" in runner.get_job(services.db, a.id).message
    assert runner.get_job(services.db, b.id).status == "done"


def test_lease_blocks_second_worker_until_it_expires(services):
    runner.register_handler("test_lease", lambda db, job, progress: None)
    job = runner.submit(services.db, "test_lease", {}, None)
    now = services.now()
    first = runner.claim_next(services.db, now, lease_seconds=60)
    assert first.id == job.id and first.status == "running"
    # A second worker finds nothing while the lease holds …
    assert runner.claim_next(services.db, now + timedelta(seconds=30), lease_seconds=60) is None
    # … and takes the job over once the first worker's lease has expired (it died).
    again = runner.claim_next(services.db, now + timedelta(seconds=61), lease_seconds=60)
    assert again.id == job.id and again.params[runner.ATTEMPTS_KEY] == 2


def test_lost_lease_stops_old_worker_progress(services):
    calls = []

    def handler(db, job, progress):
        with db.write() as s:  # another worker took the job over and finished it
            s.get(Job, job.id).status = "done"
        try:
            progress(1, 2, 1, 0)
        except runner.JobCancelled:
            calls.append("cancelled")
            raise

    runner.register_handler("test_lost", handler)
    job = runner.submit(services.db, "test_lost", {}, None)
    claimed = runner.claim_next(services.db, services.now())
    assert runner.run_job(services.db, claimed, services.clock) == "lost"
    assert calls == ["cancelled"]
    assert runner.get_job(services.db, job.id).status == "done"


def test_job_abandoned_too_often_fails(services):
    runner.register_handler("test_crashy", lambda db, job, progress: None)
    job = runner.submit(services.db, "test_crashy", {}, None)
    now = services.now()
    for attempt in range(runner.MAX_ATTEMPTS):
        assert runner.claim_next(services.db, now, lease_seconds=1) is not None
        now += timedelta(seconds=5)
    assert runner.claim_next(services.db, now, lease_seconds=1) is None
    final = runner.get_job(services.db, job.id)
    assert final.status == "failed" and "多次中断" in final.message


def test_unknown_kind_fails(services):
    job = runner.submit(services.db, "no_such_kind", {}, None)
    runner.JobRunner(services).run_pending()
    assert runner.get_job(services.db, job.id).status == "failed"


def test_thread_start_stop(services):
    done = []
    runner.register_handler("test_thread", lambda db, job, progress: done.append(job.id))
    job = runner.submit(services.db, "test_thread", {}, None)
    worker = runner.JobRunner(services, poll_seconds=0.05).start()
    try:
        import time
        for _ in range(100):
            if done:
                break
            time.sleep(0.05)
    finally:
        worker.stop()
    assert done == [job.id]
