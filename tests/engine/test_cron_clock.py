"""Cron timing survives the wall clock stepping (a −1 h step used to stop every job for an hour)
and slots missed while no scheduler ran are recorded one by one, not silently coalesced."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from config.clock import UTC
from engine.cron import CronJob
from engine.cron_clock import CronSlots
from engine.models import CronRun
from engine.runtime import Runtime

T0 = datetime(2026, 11, 20, 5, 0, 0, tzinfo=UTC)  # 13:00 in Shanghai


def test_an_every_minute_job_keeps_its_pace_when_the_wall_clock_steps_back():
    slots = CronSlots({"minute": "*"}, "Asia/Shanghai")
    assert slots.due(T0, 0.0) == T0
    assert slots.due(T0 + timedelta(seconds=10), 10.0) is None
    back = T0 - timedelta(hours=1) + timedelta(seconds=10)  # wall 04:00:10, a minute after the last run's pace
    assert slots.due(back, 10.0) is None
    assert slots.due(back + timedelta(seconds=50), 60.0) == T0 - timedelta(hours=1) + timedelta(minutes=1)
    assert slots.due(back + timedelta(seconds=110), 120.0) == T0 - timedelta(hours=1) + timedelta(minutes=2)


def test_a_daily_job_is_not_run_twice_when_the_wall_repeats_its_hour():
    slots = CronSlots({"hour": 13, "minute": 30}, "Asia/Shanghai")  # 05:30 UTC
    at = T0 + timedelta(minutes=30)
    slots.due(at - timedelta(minutes=1), 0.0)
    assert slots.due(at, 60.0) == at
    back = at + timedelta(minutes=30) - timedelta(hours=1)  # wall 05:00 again, 30 min after the run
    for minutes in range(0, 61, 5):
        assert slots.due(back + timedelta(minutes=minutes), 1800.0 + minutes * 60) is None
    assert slots.due(at + timedelta(days=1), 86400.0) == at + timedelta(days=1)


def test_the_scheduler_keeps_firing_cron_after_a_backward_step(services, clock):
    ran = []
    rt = Runtime(services)
    rt.scheduler._jobs = [CronJob("probe", "探针", {"minute": "*"}, lambda r: ran.append(r.services.now()) or "ok")]
    rt.scheduler.is_leader = True
    clock.set(T0)
    assert rt.scheduler.cron_tick(mono=0.0) == ["probe"]
    clock.set(T0 - timedelta(hours=1))  # the wall clock steps back an hour
    fired = [rt.scheduler.cron_tick(mono=float(s)) for s in range(1, 181)
             if clock.advance(seconds=1) is not None]
    assert sum(1 for f in fired if f) == 3  # 04:01, 04:02, 04:03 — not silence until 05:01
    with services.db.read() as s:
        runs = list(s.exec(select(CronRun).where(CronRun.job_key == "probe").order_by(CronRun.id)))
    assert [r.status for r in runs] == ["done"] * 4 and runs[0].summary == "ok"


def test_slots_missed_while_down_are_recorded_and_not_run(services, clock):
    ran = []
    hourly = CronJob("hourly_probe", "每小时探针", {"minute": 0}, lambda r: ran.append(1) or "ok")
    never = CronJob("new_probe", "新作业", {"minute": 0}, lambda r: "ok")
    rt = Runtime(services)
    rt.scheduler._jobs = [hourly]
    rt.scheduler.is_leader = True
    clock.set(T0)
    rt.scheduler.cron_tick(mono=0.0)  # 05:00 runs, then the server goes down
    assert len(ran) == 1
    clock.set(T0 + timedelta(hours=3, minutes=30))
    rt.scheduler._jobs = [hourly, never]  # the new version brings a job that never ran
    rt.scheduler._took_lead()
    assert rt.scheduler.cron_tick(mono=1.0) == []  # 08:30: the next slot is 09:00; nothing is replayed
    assert len(ran) == 1
    with services.db.read() as s:
        rows = list(s.exec(select(CronRun).order_by(CronRun.slot_at)))
    missed = [(r.job_key, r.slot_at) for r in rows if r.status == "missed"]
    assert missed == [("hourly_probe", T0 + timedelta(hours=h)) for h in (1, 2, 3)]
    assert all("停止" in r.summary for r in rows if r.status == "missed")
    assert {r.job_key for r in rows} == {"hourly_probe"}  # a job never run before has nothing to miss


def test_a_long_outage_of_a_frequent_job_is_capped_and_counted(services, clock):
    every_minute = CronJob("minute_probe", "每分钟探针", {"minute": "*"}, lambda r: "ok")
    rt = Runtime(services)
    rt.scheduler._jobs = [every_minute]
    rt.scheduler.is_leader = True
    clock.set(T0)
    rt.scheduler.cron_tick(mono=0.0)
    clock.set(T0 + timedelta(hours=10))
    rt.scheduler._took_lead()
    with services.db.read() as s:
        missed = list(s.exec(select(CronRun).where(CronRun.status == "missed").order_by(CronRun.slot_at)))
    assert len(missed) == 200 and "另有 399 次" in missed[-1].summary
