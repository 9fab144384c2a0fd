"""/readyz and 系统监控's health checks: can this deployment take traffic and act on it?

Ready means: the database answers; Redis answers when configured; some live process dispatches
events (this one, or a worker whose heartbeat is fresh); and a live scheduler leader runs the cron
jobs. A killed worker stops beating, so readiness turns false within three heartbeats.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text

from engine.heartbeats import ProcessState, process_states
from engine.models import StrategyTask
from events.models import EventRecord

# A step due longer than this and still not started counts as 到期未执行 (the sweep runs every second).
DUE_GRACE_SECONDS = 60


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str


def _database(services) -> Check:
    try:
        with services.db.read() as session:
            session.execute(text("SELECT 1"))
        return Check(True, "正常")
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the kind is enough here
        return Check(False, f"数据库不可用：{type(exc).__name__}")


def _redis(services) -> Check:
    try:
        services.redis.ping()
        return Check(True, "正常")
    except Exception as exc:  # noqa: BLE001
        return Check(False, f"Redis 不可用：{type(exc).__name__}")


def _fresh(states: list[ProcessState], role: str) -> list[ProcessState]:
    return [p for p in states if p.alive and role in (p.row.roles or [])]


def checks(runtime, states: list[ProcessState] | None = None) -> dict[str, Check]:
    services = runtime.services
    out = {"database": _database(services)}
    if services.settings.redis_url:
        out["redis"] = _redis(services)
    if not out["database"].ok:
        return out
    if states is None:
        with services.db.read() as session:
            states = process_states(session, services.now())
    if runtime.background and "dispatch" in runtime.roles:
        out["workers"] = Check(True, "本进程分发事件")
    else:
        live = _fresh(states, "dispatch")
        out["workers"] = Check(bool(live), f"{len(live)} 个进程在分发事件" if live else "没有存活的事件分发进程（worker 心跳超时）")
    if runtime.scheduler.is_leader:
        out["leader"] = Check(True, "本进程是调度主节点")
    else:
        leaders = [p for p in _fresh(states, "cron") if p.row.is_leader]
        out["leader"] = Check(bool(leaders), f"调度主节点：{leaders[0].row.owner}" if leaders else "没有存活的调度主节点（定时作业不会运行）")
    return out


def queue_figures(session, now) -> dict:
    """The backlog in the database: events stored but not yet dispatched, steps due but not started,
    steps running, and dead letters."""
    E, T = EventRecord, StrategyTask
    return {
        "event_queue": session.execute(select(func.count()).select_from(E).where(
            E.dispatch_status.in_(("pending", "claimed")))).scalar() or 0,
        "due_not_run": session.execute(select(func.count()).select_from(T).where(
            T.status.in_(("pending", "failed")), T.due_at < now - timedelta(seconds=DUE_GRACE_SECONDS))).scalar() or 0,
        "running": session.execute(select(func.count()).select_from(T).where(T.status == "running")).scalar() or 0,
        "dead_letters": session.execute(select(func.count()).select_from(T).where(T.status == "dead")).scalar() or 0,
    }
