"""Issue 9 item 16: retry schedules that ride out an outage, per processor; 410 Gone disables.

The engine runs for real (ingestion, dispatcher, executor) against a real HTTP server; the
manual clock jumps from one due time to the next, so hours of schedule take milliseconds.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from config.clock import as_utc
from config.retry_schedule import RetryScheduleError, format_schedule, parse_schedule
from config.settings import Settings
from crm.people.notifications import list_notifications
from crm.people.users import create_user
from engine.backoff import scheduled_wait
from engine.models import StrategyTask
from engine.runtime import Runtime
from handlers.definitions import DefinitionError, create_definition, get_definition, update_definition
from tests.engine.conftest import Kit
from tests.support import with_settings
from tests.support.fake_http import Reply

EVENT = {"event": "survey_submitted", "data": {"customerName": "王五", "email": "w@example.com", "score": 5, "vipLevel": 3}}


@pytest.fixture
def production_retries(services):
    """The shipped retry settings (no compressed schedule, no test cap on attempts)."""
    shipped = Settings()
    return with_settings(services, http_allow_private_hosts=["127.0.0.1"], retry_base_seconds=None,
                         retry_schedule=shipped.retry_schedule, step_max_attempts=shipped.step_max_attempts)


@pytest.fixture
def kit(production_retries):
    rt = Runtime(production_retries)
    yield Kit(rt)
    rt.stop()


def _hook(kit, fake_http, **extra):
    definition = create_definition(kit.svc.db, {"name": "推送到 CRM", "url": fake_http.url("/hook"),
                                                "body": '{"n": "${customerName}"}', **extra})
    kit.strategy("survey_submitted", [], [{"processor": definition.key, "config": {},
                                           "timing": {"mode": "immediate"}}])
    kit.rt.invalidate()
    return definition


def _task(kit) -> StrategyTask:
    with kit.svc.db.read() as s:
        return s.exec(select(StrategyTask).order_by(StrategyTask.id.desc())).first()


def _run_until_settled(kit, clock, until=None, stop_after=None):
    """Ticks, then jumps the clock to the step's next due time, until it is done or dead."""
    started = clock.now()
    kit.rt.tick()
    while (task := _task(kit)).status == "failed":
        clock.set(max(clock.now(), as_utc(task.due_at)))
        if stop_after is not None and clock.now() - started >= stop_after and until is not None:
            until()
            until = None
        kit.rt.tick()
    return _task(kit), clock.now() - started


def test_schedule_text_round_trips_and_names_bad_entries():
    assert parse_schedule("5s, 1m, 5m，30分钟 2h 1天") == (5, 60, 300, 1800, 7200, 86400)
    assert format_schedule(parse_schedule("90s, 3600, 2h")) == "90s, 1h, 2h"
    with pytest.raises(RetryScheduleError, match="「5x」"):
        parse_schedule("5s, 5x")


def test_default_schedule_outlasts_an_hour_and_replays_restart_it():
    waits = [scheduled_wait(n, parse_schedule(Settings().retry_schedule)) for n in range(1, 7)]
    assert waits == [5, 60, 300, 1800, 7200, 18000] and Settings().step_max_attempts == 7
    assert sum(waits[:-1]) > 3600  # the last retry still comes after an hour-long outage
    assert [scheduled_wait(n, (5, 60, 300)) for n in (5, 6)] == [5, 60]  # a replay (4 more attempts) starts over
    assert scheduled_wait(2, (5, 60, 300), base_seconds=0.5) == 6  # compressed for tests: same shape


def test_step_survives_an_hour_long_outage(kit, fake_http, clock):
    fake_http.always("/hook", Reply(503))
    _hook(kit, fake_http)
    kit.post(EVENT)
    task, took = _run_until_settled(kit, clock, until=lambda: fake_http.always("/hook", Reply(200)),
                                    stop_after=timedelta(hours=1))
    assert task.status == "done" and task.max_attempts == 7
    assert took > timedelta(hours=1) and 1 < task.attempts <= 7
    assert len(fake_http.requests_to("/hook")) == task.attempts


def test_processor_schedule_is_configured_per_definition(kit, fake_http, clock):
    fake_http.always("/hook", Reply(503))
    definition = _hook(kit, fake_http, retry_schedule="10s，20秒")
    assert definition.retry_schedule == "10s, 20s"
    kit.post(EVENT)
    kit.rt.tick()
    task = _task(kit)
    assert task.max_attempts == 3 and task.status == "failed"
    wait = (as_utc(task.due_at) - clock.now()).total_seconds()
    assert 8 <= wait <= 12
    task, _ = _run_until_settled(kit, clock)
    assert task.status == "dead" and task.attempts == 3
    with pytest.raises(DefinitionError) as err:
        update_definition(kit.svc.db, definition.id, {"retry_schedule": "soon"})
    assert "soon" in err.value.errors["retry_schedule"]


def test_410_gone_disables_the_processor_and_tells_admins(kit, fake_http, clock):
    admin = create_user(kit.svc.db, "admin1", "Passw0rd!2026x", is_admin=True)
    fake_http.always("/hook", Reply(410, {"error": "endpoint removed"}))
    definition = _hook(kit, fake_http)
    kit.post(EVENT)
    kit.rt.tick()
    task = _task(kit)
    assert task.status == "dead" and task.attempts == 1 and "410 Gone" in task.last_error
    stored = get_definition(kit.svc.db, definition.id)
    assert stored.enabled is False and stored.disabled_reason == "对方返回 410 Gone"
    notes, _ = list_notifications(kit.svc.db, admin.id)
    assert len(notes) == 1 and "推送到 CRM" in notes[0].title and notes[0].link == f"/processors/{definition.id}/edit"

    kit.post({**EVENT, "id": "second"})  # later steps fail at once, without calling the gone endpoint
    kit.rt.tick()
    second = _task(kit)
    assert second.status == "dead" and "已停用：对方返回 410 Gone" in second.last_error
    assert len(fake_http.requests_to("/hook")) == 1

    fake_http.always("/hook", Reply(200))
    update_definition(kit.svc.db, definition.id, {"enabled": True}, kit.rt.registry)  # the console's 启用
    assert get_definition(kit.svc.db, definition.id).disabled_reason == ""
    kit.post({**EVENT, "id": "third"})
    kit.rt.tick()
    assert _task(kit).status == "done" and len(fake_http.requests_to("/hook")) == 2
