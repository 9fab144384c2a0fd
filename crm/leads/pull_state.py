"""订单同步 / 抖音粉丝同步的进度账本: for every scene that polls a platform, where the last
poll stopped (the platform's cursor), when the next one is due, and how many times in a row the
platform failed. A failing platform is asked again after 1, 2, 4 … minutes (at most 60), so a
shop whose API is down is not hammered every minute; one good answer resets the count.

Each poll is a PullRun (订单同步记录: fetched, created, duplicates, rejected, error). Only one
run per scene is under way at a time — the scheduler and the console's 立即同步 button may both
try — and a run that was cut off (a crashed process) stops blocking after RUN_LEASE.

The scene's `params["pull"]` holds the non-secret settings, e.g.
{"enabled": true, "kind": "orders", "endpoint": "https://…", "page_size": 100, "interval_minutes": 5};
the platform credentials are sealed on the scene (crm.leads.scenes.open_credentials).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlmodel import Session

from config.clock import as_utc
from crm.leads.errors import LeadsError
from crm.leads.models import LeadScene, PullCursor, PullRun

PULL_SCENE_TYPES = ("ORDER_SYNC", "SOCIAL_MEDIA_LEAD")
# kind → (label, the item field that is the platform's id of the order / fan)
PULL_KINDS = {"orders": ("订单同步", "order_no"), "douyin_fans": ("抖音粉丝同步", "open_id")}
MAX_BACKOFF_MINUTES = 60
RUN_LEASE = timedelta(minutes=15)  # longer than any run: page limit × HTTP timeout
PAGE_SIZE_RANGE = (1, 500)
INTERVAL_RANGE = (1, 1440)


@dataclass(frozen=True)
class PullConfig:
    kind: str
    endpoint: str
    page_size: int = 100
    interval_minutes: int = 5

    @property
    def id_field(self) -> str:
        return PULL_KINDS[self.kind][1]

    @property
    def label(self) -> str:
        return PULL_KINDS[self.kind][0]


def _int_in(value, bounds: tuple[int, int], label: str, errors: dict, key: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[key] = f"{label}必须是整数"
        return bounds[0]
    if not bounds[0] <= number <= bounds[1]:
        errors[key] = f"{label}应在 {bounds[0]}–{bounds[1]} 之间"
    return number


def clean_pull_params(raw) -> dict:
    """Checks a scene's `pull` settings (for the scene form); returns them cleaned or raises LeadsError."""
    if not isinstance(raw, dict):
        raise LeadsError("拉取设置格式不正确", {"pull": "应为对象"})
    errors: dict = {}
    kind = str(raw.get("kind") or "orders")
    if kind not in PULL_KINDS:
        errors["pull.kind"] = "拉取类型只能是订单同步或抖音粉丝同步"
    endpoint = str(raw.get("endpoint") or "").strip()
    parts = urlsplit(endpoint)
    # 抖音粉丝同步 may run on the scene's authorised 抖音号 (抖音授权) alone, with no endpoint of its own.
    if (endpoint or kind != "douyin_fans") and (parts.scheme not in ("http", "https") or not parts.hostname):
        errors["pull.endpoint"] = "请填写平台接口地址（http:// 或 https:// 开头）"
    page_size = _int_in(raw.get("page_size", 100), PAGE_SIZE_RANGE, "每页条数", errors, "pull.page_size")
    interval = _int_in(raw.get("interval_minutes", 5), INTERVAL_RANGE, "同步间隔（分钟）", errors,
                       "pull.interval_minutes")
    if errors:
        raise LeadsError("拉取设置有误", errors)
    return {"enabled": bool(raw.get("enabled")), "kind": kind, "endpoint": endpoint, "page_size": page_size,
            "interval_minutes": interval}


def pull_config(scene: LeadScene) -> Optional[PullConfig]:
    """The scene's polling settings, or None when it does not poll (wrong type, switched off, incomplete)."""
    if scene.scene_type not in PULL_SCENE_TYPES or not scene.is_enabled:
        return None
    raw = (scene.params or {}).get("pull")
    if not isinstance(raw, dict) or not raw.get("enabled"):
        return None
    try:
        clean = clean_pull_params(raw)
    except LeadsError:
        return None
    return PullConfig(clean["kind"], clean["endpoint"], clean["page_size"], clean["interval_minutes"])


def backoff_minutes(failures: int) -> int:
    """1, 2, 4, 8 … minutes after the 1st, 2nd, 3rd … failure in a row, never more than an hour."""
    if failures <= 0:
        return 0
    return min(2 ** min(failures - 1, 16), MAX_BACKOFF_MINUTES)


def get_cursor(session: Session, scene_id: int) -> PullCursor:
    cursor = session.get(PullCursor, scene_id)
    if cursor is None:
        cursor = PullCursor(scene_id=scene_id)
        session.add(cursor)
        session.flush()
    return cursor


def polling_scenes(session: Session) -> list[tuple[LeadScene, PullConfig]]:
    scenes = session.scalars(select(LeadScene).where(LeadScene.scene_type.in_(PULL_SCENE_TYPES))
                             .order_by(LeadScene.id))
    return [(s, c) for s in scenes if (c := pull_config(s)) is not None]


def due_scene_ids(session: Session, now: datetime) -> list[int]:
    """Polling scenes whose next run time has come (never run counts as due)."""
    cursors = {c.scene_id: c for c in session.scalars(select(PullCursor))}
    due = []
    for scene, _config in polling_scenes(session):
        cursor = cursors.get(scene.id)
        if cursor is None or cursor.next_run_at is None or as_utc(cursor.next_run_at) <= now:
            due.append(scene.id)
    return due


def running_run(session: Session, scene_id: int, now: datetime) -> Optional[PullRun]:
    """An unfinished run of the scene started within the lease (a crashed one stops counting)."""
    return session.scalar(select(PullRun).where(PullRun.scene_id == scene_id, PullRun.finished_at.is_(None),
                                                PullRun.started_at > now - RUN_LEASE)
                          .order_by(PullRun.id.desc()).limit(1))


def start_run(session: Session, scene_id: int, trigger: str, now: datetime) -> Optional[PullRun]:
    """Opens a run, or None when one is already under way for this scene. The cursor row is locked
    (FOR UPDATE on PostgreSQL; SQLite's write transactions are serial anyway) so two starters agree."""
    get_cursor(session, scene_id)
    session.execute(select(PullCursor).where(PullCursor.scene_id == scene_id).with_for_update())
    if running_run(session, scene_id, now) is not None:
        return None
    run = PullRun(scene_id=scene_id, trigger=trigger, started_at=now)
    session.add(run)
    session.flush()
    return run


def record_page(session: Session, scene_id: int, new_cursor: str) -> None:
    """A page whose items are all stored: the next poll starts after it, even if a later page fails."""
    get_cursor(session, scene_id).cursor = (new_cursor or "")[:500]


def record_success(session: Session, run: PullRun, now: datetime, interval_minutes: int,
                   more_waiting: bool = False) -> PullRun:
    """Failures reset; the next run is due after the interval (at once when the page limit stopped
    this run with pages still waiting)."""
    cursor = get_cursor(session, run.scene_id)
    cursor.failures, cursor.last_error, cursor.last_run_at = 0, "", now
    cursor.next_run_at = now if more_waiting else now + timedelta(minutes=interval_minutes)
    run.ok, run.error, run.finished_at = True, "", now
    session.add_all([cursor, run])
    return run


def record_failure(session: Session, run: PullRun, error: str, now: datetime) -> PullRun:
    """The run fails with `error` (Chinese, shown in 订单同步记录); the next try backs off."""
    cursor = get_cursor(session, run.scene_id)
    cursor.failures += 1
    cursor.last_error, cursor.last_run_at = error[:1000], now
    cursor.next_run_at = now + timedelta(minutes=backoff_minutes(cursor.failures))
    run.ok, run.error, run.finished_at = False, error[:1000], now
    session.add_all([cursor, run])
    return run


def list_runs(session: Session, scene_id: Optional[int] = None, limit: int = 50) -> list[PullRun]:
    query = select(PullRun).order_by(PullRun.id.desc()).limit(limit)
    if scene_id is not None:
        query = query.where(PullRun.scene_id == scene_id)
    return list(session.scalars(query))
