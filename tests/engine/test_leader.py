"""Exactly one scheduler leader: the lease table (SQLite), a real Redis lock, PostgreSQL advisory locks."""
from __future__ import annotations

import dataclasses

import pytest

from config.redis_factory import make_redis
from engine.cron import CRON_JOBS, CronJob, purge_idempotency_keys, register
from engine.leader import LeaderLease
from engine.runtime import Runtime
from events.models import IdempotencyKey


def test_table_lease_has_one_holder_until_it_expires(services, clock):
    if services.db.is_postgres:
        pytest.skip("PostgreSQL uses advisory locks (tested below)")
    a, b = LeaderLease(services, "a", ttl_seconds=30), LeaderLease(services, "b", ttl_seconds=30)
    assert a.acquire() and not b.acquire()
    assert a.acquire()  # renew
    clock.advance(seconds=31)
    assert b.acquire() and not a.acquire()
    b.release()
    assert a.acquire()


def test_redis_lock_has_one_holder_and_expires(services, redis_url):
    svc = dataclasses.replace(services, redis=make_redis(services.settings.model_copy(update={"redis_url": redis_url})))
    a, b = LeaderLease(svc, "a", ttl_seconds=1), LeaderLease(svc, "b", ttl_seconds=1)
    if svc.db.is_postgres:
        pytest.skip("PostgreSQL takes precedence over Redis")
    assert a.acquire() and not b.acquire() and a.acquire()
    svc.redis.delete("ckb:leader:scheduler")  # what expiry does after the ttl
    assert b.acquire() and not a.acquire()
    b.release()
    assert a.acquire()
    a.release()


def test_postgres_advisory_lock_has_one_holder(services):
    if not services.db.is_postgres:
        pytest.skip("PostgreSQL only (run in the PostgreSQL pass of make test)")
    a, b = LeaderLease(services, "a"), LeaderLease(services, "b")
    try:
        assert a.acquire() and not b.acquire()
        a.release()
        assert b.acquire()
    finally:
        a.release()
        b.release()


def test_only_the_leader_runs_cron_jobs(services, clock):
    ran = []
    job = CronJob("test_probe", "测试", {"hour": 1}, lambda rt: ran.append(rt.owner) or "ok")
    leader, follower = Runtime(services), Runtime(services)
    leader.scheduler.is_leader, follower.scheduler.is_leader = True, False
    leader.scheduler._cron(job)
    follower.scheduler._cron(job)
    assert ran == [leader.owner]


def test_cron_registry_refuses_duplicate_keys():
    with pytest.raises(ValueError):
        register(CRON_JOBS[0])


def test_idempotency_keys_expire_after_a_day(services, clock):
    with services.db.write() as s:
        s.add(IdempotencyKey(app_id=1, key="old", status_code=202, response={}, created_at=clock.now()))
    clock.advance(hours=25)
    with services.db.write() as s:
        s.add(IdempotencyKey(app_id=1, key="new", status_code=202, response={}, created_at=clock.now()))
    assert "1 条" in purge_idempotency_keys(Runtime(services))


def test_scheduler_registers_every_cron_job_with_a_valid_trigger(services):
    from engine.cron_clock import CronSlots
    from engine.crm_wiring import all_cron_jobs

    rt = Runtime(services)
    rt.scheduler.start(sweep=False, cron=True)
    try:
        scheduled = {job.key for job in rt.scheduler.jobs}
        nexts = [CronSlots(job.cron, services.settings.timezone).after(services.now()) for job in rt.scheduler.jobs]
    finally:
        rt.scheduler.stop()
    expected = {j.key for j in all_cron_jobs(services.settings, rt.extra_cron_jobs)}
    assert expected <= scheduled and {"auto_tag", "marketing_plans", "recycle", "purge_cron_runs"} <= expected
    assert all(n is not None for n in nexts)
