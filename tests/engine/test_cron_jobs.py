"""任务调度: stored schedules re-time the scheduler without a restart, 立即执行 runs once however
often it is asked, and registered jobs fire events / HTTP processors through the ledger."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from engine import cron_requests
from engine.cron import CronJob
from engine.cron_admin import create_custom, delete_custom
from engine.cron_registry import catalog, reset_schedule, save_schedule
from engine.cron_schedule import parse, preview
from engine.errors import JobError
from engine.models import CronRun, StepAttempt, StrategyTask
from engine.runtime import Runtime
from events.models import EventRecord
from handlers.definitions import create_definition

TZ = "Asia/Shanghai"


def _probe(calls: list, key: str = "probe", cron=None) -> CronJob:
    return CronJob(key, "探针", cron or {"hour": 5, "minute": 30}, lambda rt: calls.append(key) or "探针完成")


def _with_jobs(rt: Runtime, jobs: list) -> None:
    """The scheduler as `start` leaves it, without its thread (tests tick it by hand)."""
    rt.scheduler._code_jobs, rt.scheduler.timing = list(jobs), True
    rt.scheduler.reload()


def test_hhmm_and_crontab_with_sunday_zero():
    assert parse("06:10") == {"hour": 6, "minute": 10}
    assert parse("0 9 * * 1") == {"minute": "0", "hour": "9", "day_of_week": "mon"}
    now = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Beijing
    assert preview("0 9 * * 0", TZ, now, 2) == ["2026-11-22 09:00 周日", "2026-11-29 09:00 周日"]
    assert preview("*/20 * * * *", TZ, now, 3) == ["2026-11-20 10:00 周五", "2026-11-20 10:20 周五",
                                                     "2026-11-20 10:40 周五"]
    for bad, word in (("25:00", "无效"), ("0 9 * *", "4 段"), ("61 * * * *", "无效"), ("0 9 * * 8", "超出范围"), ("", "请填写")):
        with pytest.raises(JobError) as caught:
            parse(bad)
        assert word in caught.value.errors["schedule"]


def test_a_saved_schedule_reaches_a_running_scheduler_through_the_version(runtime, services):
    calls: list = []
    _with_jobs(runtime, [_probe(calls)])
    other = Runtime(services)  # a web process saving the change
    with services.db.write() as s:
        entry = save_schedule(s, [_probe(calls)], "probe", "6:10".replace("6", "06"), True, "admin", services.now())
    assert entry.schedule == "06:10" and entry.default == "05:30"
    assert runtime.scheduler.jobs[0].cron == {"hour": 5, "minute": 30}  # not yet: the tick reads the version
    runtime.scheduler.control_tick()
    assert runtime.scheduler.jobs[0].cron == {"hour": 6, "minute": 10}
    with services.db.write() as s:
        save_schedule(s, [_probe(calls)], "probe", "06:10", False, "admin", services.now())
    runtime.scheduler.control_tick()
    assert runtime.scheduler.jobs == []  # disabled: not timed
    with services.db.write() as s:
        entry = reset_schedule(s, [_probe(calls)], "probe")
    runtime.scheduler.control_tick()
    assert entry.enabled and runtime.scheduler.jobs[0].cron == {"hour": 5, "minute": 30}
    with pytest.raises(JobError) as caught, services.db.write() as s:
        save_schedule(s, [_probe(calls)], "probe", "99:99", True, "admin", services.now())
    assert "无效" in caught.value.errors["schedule"]
    other.stop()


def test_run_now_twice_runs_once_and_records_who(runtime, services, clock):
    calls: list = []
    _with_jobs(runtime, [_probe(calls)])
    first = cron_requests.request_run(services.db, "probe", "admin", services.now())
    second = cron_requests.request_run(services.db, "probe", "admin", services.now())
    assert first.created and not second.created and "已在排队" in second.message
    runtime.scheduler.is_leader = True
    assert runtime.scheduler.run_requests() == ["probe"]
    assert runtime.scheduler.run_requests() == []
    assert calls == ["probe"]
    with services.db.read() as s:
        run = s.exec(select(CronRun)).one()
        assert (run.trigger, run.requested_by, run.status, run.summary) == ("manual", "admin", "done", "探针完成")
        assert cron_requests.live_requests(s) == {}
    again = cron_requests.request_run(services.db, "probe", "admin", services.now())
    assert not again.created and "刚刚已执行过" in again.message  # a double click outlived by a quick job
    clock.advance(seconds=6)
    assert cron_requests.request_run(services.db, "probe", "admin", services.now()).created  # asked again later: fine


def test_two_claimers_of_one_request_run_it_once(engine_services):
    """Two schedulers (a lease overlap) race for the same request: one run (SQLite and PostgreSQL)."""
    calls: list = []
    gate = threading.Barrier(2)

    def slow(rt):
        calls.append(rt.owner)
        return "ok"

    job = CronJob("probe", "探针", {"hour": 5, "minute": 30}, slow)
    runtimes = [Runtime(engine_services) for _ in range(2)]
    for rt in runtimes:
        _with_jobs(rt, [job])
        rt.scheduler.is_leader = True
    cron_requests.request_run(engine_services.db, "probe", "admin", engine_services.now())
    started: list = []

    def claim(rt):
        gate.wait()
        started.extend(rt.scheduler.run_requests())

    threads = [threading.Thread(target=claim, args=(rt,)) for rt in runtimes]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert started == ["probe"] and len(calls) == 1
    with engine_services.db.read() as s:
        assert len(s.exec(select(CronRun)).all()) == 1
    for rt in runtimes:
        rt.stop()


def test_a_request_left_running_by_a_dead_leader_is_released(runtime, services, clock):
    calls: list = []
    _with_jobs(runtime, [_probe(calls)])
    req = cron_requests.request_run(services.db, "probe", "admin", services.now())
    assert cron_requests.claim(services.db, req.request_id, "gone-host:1:abc", services.now())
    assert not cron_requests.request_run(services.db, "probe", "admin", services.now()).created
    runtime.scheduler._took_lead()
    clock.advance(seconds=6)
    assert cron_requests.request_run(services.db, "probe", "admin", services.now()).created


def _register(runtime, services, form: dict):
    with services.db.write() as s:
        return create_custom(s, runtime.registry, form, TZ, "admin", services.now())


def test_a_registered_event_job_is_validated_and_lands_in_event_history(kit, runtime, services):
    form = {"name": "每日交易对账", "schedule": "07:00", "action": "event", "target": "customer_trade",
            "data": {"customerName": "张三", "mobile": "13800000000", "orderNo": "A1", "amount": "很多"}}
    with pytest.raises(JobError) as caught:
        _register(runtime, services, form)
    assert "交易金额" in caught.value.errors["data.amount"]
    with pytest.raises(JobError) as caught:
        _register(runtime, services, {**form, "schedule": "7点"})
    assert "schedule" in caught.value.errors and "data.amount" in caught.value.errors
    job = _register(runtime, services, {**form, "data": {**form["data"], "amount": "88.5"}})
    _with_jobs(runtime, [])
    with services.db.read() as s:
        entry = [e for e in catalog(s, []) if e.key == job.key][0]
    assert entry.schedule == "07:00" and entry.enabled and entry.owner_label == "定时任务注册"
    assert runtime.scheduler.jobs[0].key == job.key
    cron_requests.request_run(services.db, job.key, "admin", services.now())
    runtime.scheduler.is_leader = True
    runtime.scheduler.run_requests()
    with services.db.read() as s:
        record = s.exec(select(EventRecord).where(EventRecord.event_code == "customer_trade")).one()
        run = s.exec(select(CronRun)).one()
    assert record.source == "cron" and record.data["amount"] == 88.5 and record.data["orderNo"] == "A1"
    assert run.status == "done" and f"#{record.id}" in run.summary
    with services.db.write() as s:
        delete_custom(s, job.id)
    runtime.scheduler.control_tick()
    assert runtime.scheduler.jobs == []


def test_a_registered_http_job_calls_the_processor_through_the_executor(kit, runtime, services, fake_http):
    definition = create_definition(services.db, {"name": "通知 ERP", "url": fake_http.url("/hook"),
                                                 "body": '{"job": "${schedule_key}"}'})
    job = _register(runtime, services, {"name": "每小时同步 ERP", "schedule": "0 * * * *", "action": "http",
                                        "target": definition.key, "data": {}})
    _with_jobs(runtime, [])
    cron_requests.request_run(services.db, job.key, "admin", services.now())
    runtime.scheduler.is_leader = True
    runtime.scheduler.run_requests()
    assert fake_http.requests_to("/hook")[0].json() == {"job": job.key}
    with services.db.read() as s:
        task = s.exec(select(StrategyTask)).one()
        attempts = s.exec(select(StepAttempt).where(StepAttempt.task_id == task.id)).all()
        run = s.exec(select(CronRun)).one()
    assert task.status == "done" and task.processor_key == definition.key and len(attempts) == 1
    assert run.status == "done" and "成功" in run.summary


def test_a_failing_http_job_shows_the_failure_on_its_run(kit, runtime, services, fake_http):
    from tests.support.fake_http import Reply

    fake_http.always("/down", Reply(500))
    definition = create_definition(services.db, {"name": "坏接口", "url": fake_http.url("/down")})
    job = _register(runtime, services, {"name": "坏任务", "schedule": "08:00", "action": "http",
                                        "target": definition.key})
    _with_jobs(runtime, [])
    cron_requests.request_run(services.db, job.key, "admin", services.now())
    runtime.scheduler.is_leader = True
    runtime.scheduler.run_requests()
    with services.db.read() as s:
        run = s.exec(select(CronRun)).one()
    assert run.status == "failed" and "失败" in run.summary and "500" in run.summary


def test_the_auto_tag_setting_stays_the_default_until_a_schedule_is_stored(services):
    from engine.crm_wiring import all_cron_jobs
    from engine.cron_registry import find
    from tests.support import with_settings

    jobs = all_cron_jobs(with_settings(services, autotag_cron="04:45").settings)
    with services.db.write() as s:
        assert find(s, jobs, "auto_tag").schedule == "04:45"
        save_schedule(s, jobs, "auto_tag", "06:10", True, "admin", services.now())
        entry = find(s, jobs, "auto_tag")
        assert (entry.schedule, entry.default, entry.customised) == ("06:10", "04:45", True)
        entry = reset_schedule(s, jobs, "auto_tag")
        assert (entry.schedule, entry.stored) == ("04:45", None)
