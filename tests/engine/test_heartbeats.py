"""Process beacons and readiness on the test clock: a beat inserts then updates one row, a stop marks
it stopped, three missed beats make it stale, and readiness follows the live dispatcher and leader."""
from __future__ import annotations

from sqlalchemy import func, select

from engine import readiness
from engine.heartbeats import ProcessBeacon, process_states, stale_after
from engine.process_models import ProcessHeartbeat
from engine.runtime import Runtime


def _states(svc):
    with svc.db.read() as s:
        return process_states(s, svc.now())


def _rows(svc) -> int:
    with svc.db.read() as s:
        return s.execute(select(func.count()).select_from(ProcessHeartbeat)).scalar()


def test_a_beacon_keeps_one_row_fresh_and_says_when_it_stopped(services, clock):
    beacon = ProcessBeacon(services, "host:1:abc", {"dispatch", "sweep"}, info={"held_steps": lambda: 3})
    beacon.beat()
    clock.advance(seconds=5)
    beacon.beat()
    assert _rows(services) == 1
    [state] = _states(services)
    assert state.alive and state.row.kind == "worker" and state.row.info == {"held_steps": 3}
    assert state.row.roles == ["dispatch", "sweep"] and state.lag_seconds == 0
    beacon.stop()
    [state] = _states(services)
    assert not state.alive and state.status_label == "已停止"


def test_three_missed_beats_mark_a_process_lost_and_a_day_later_it_is_pruned(services, clock):
    ProcessBeacon(services, "dead:1:x", {"dispatch"}).beat()
    clock.advance(seconds=stale_after(services.settings.process_heartbeat_seconds).total_seconds() + 1)
    [state] = _states(services)
    assert not state.alive and state.status_label == "失联"
    clock.advance(days=1)
    ProcessBeacon(services, "new:2:y", {"cron"}, is_leader=lambda: True).beat()
    [state] = _states(services)
    assert state.row.owner == "new:2:y" and state.row.kind == "scheduler" and state.row.is_leader


def test_a_failing_info_figure_is_left_out_and_the_beat_goes_on(services):
    def broken():
        raise RuntimeError("gateway gone")

    ProcessBeacon(services, "h:3:z", {"web"}, info={"ok": lambda: 1, "bad": broken}).beat()
    [state] = _states(services)
    assert state.row.info == {"ok": 1} and state.row.kind == "web"


def test_readiness_needs_a_live_dispatcher_and_leader(services, clock):
    rt = Runtime(services)  # not started: serves no role itself
    checks = readiness.checks(rt)
    assert checks["database"].ok and not checks["workers"].ok and not checks["leader"].ok
    assert "worker" in checks["workers"].detail
    ProcessBeacon(services, "w:1:a", {"dispatch", "sweep"}).beat()
    ProcessBeacon(services, "s:2:b", {"sweep", "cron"}, is_leader=lambda: True).beat()
    checks = readiness.checks(rt)
    assert checks["workers"].ok and checks["leader"].ok and "s:2:b" in checks["leader"].detail
    clock.advance(seconds=stale_after(services.settings.process_heartbeat_seconds).total_seconds() + 1)
    checks = readiness.checks(rt)
    assert not checks["workers"].ok and not checks["leader"].ok


def test_a_started_runtime_beats_with_its_roles_and_marks_itself_stopped(services):
    rt = Runtime(services, executor_threads=1)
    rt.start(dispatch=True, sweep=True, cron=False)
    try:
        [state] = _states(services)
        assert state.row.owner == rt.owner and set(state.row.roles) == {"dispatch", "sweep"} and state.alive
        assert readiness.checks(rt)["workers"].detail == "本进程分发事件"
    finally:
        rt.stop()
    [state] = _states(services)
    assert state.row.stopped_at is not None


def test_queue_figures_count_the_backlog(services):
    with services.db.read() as s:
        figures = readiness.queue_figures(s, services.now())
    assert figures == {"event_queue": 0, "due_not_run": 0, "running": 0, "dead_letters": 0}
