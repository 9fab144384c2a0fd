"""群发任务: create (checked target, content, schedule and gaps), list, read, cancel, preview count.

A 业务员 (without conversations.view_all) reaches only the friends of the accounts assigned to them
and sees only the 群发 they created; another's 群发 is "not found" like an unknown id. The target is
resolved when the 群发 starts (so a friend tagged in between is included), with its creator's scope.

Functions take the caller's Session and never commit."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func, true
from sqlmodel import Session, col, select, update

from config.clock import as_utc, utcnow
from conversations.broadcast import content as contents, targets
from conversations.broadcast.models import (BROADCAST_STATES, RECIPIENT_STATES, SCENE_GAPS, SCENES, Broadcast,
                                            BroadcastRecipient)
from conversations.errors import ConversationError, ConversationNotFound
from conversations.ids import object_id
from conversations.quick_replies.access import own_accounts, sees_all
from crm.scope import Viewer
from devices.commands import cancel_command
from devices.models import DeviceCommand

NAME_MAX = 100
GAP_MAX = 3600.0
SCHEDULE_MAX_DAYS = 90


def broadcasts_clause(viewer: Viewer):
    if sees_all(viewer):
        return true()
    return Broadcast.created_by == viewer.user_id


def creator_viewer(session: Session, broadcast: Broadcast) -> Viewer:
    """The scope a 群发 runs with: its creator's, as stored when it was saved (target["scope"])."""
    scope = (broadcast.target or {}).get("scope_user_id")
    return Viewer(scope, frozenset()) if scope is not None else Viewer(None, frozenset({"conversations.view_all"}))


def get_broadcast(session: Session, broadcast_id, viewer: Viewer) -> Broadcast:
    key, row = object_id(broadcast_id), None
    if key is not None:
        row = session.exec(select(Broadcast).where(Broadcast.id == key, broadcasts_clause(viewer))).first()
    if row is None:
        raise ConversationNotFound("群发任务不存在或无权查看")
    return row


def list_broadcasts(session: Session, viewer: Viewer, status: Optional[str] = None, page: int = 1,
                    size: int = 20) -> tuple[list[Broadcast], int]:
    stmt = select(Broadcast).where(broadcasts_clause(viewer))
    if status in BROADCAST_STATES:
        stmt = stmt.where(Broadcast.status == status)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(Broadcast.id).desc()).offset((page - 1) * size).limit(size)).all()
    return list(rows), int(total)


def _float(raw, field: str, label: str) -> Optional[float]:
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConversationError(f"{label}应为数字", {field: f"{label}应为数字"}) from None
    if not 0 <= value <= GAP_MAX or value != value:
        raise ConversationError(f"{label}应在 0 到 {GAP_MAX:.0f} 秒之间", {field: f"{label}应在 0 到 {GAP_MAX:.0f} 秒之间"})
    return value


def _when(raw, now: datetime) -> datetime:
    if raw in (None, ""):
        return now
    if not isinstance(raw, datetime):
        raise ConversationError("发送时间无效", {"scheduled_at": "发送时间无效"})
    when = as_utc(raw)
    if when < now - timedelta(minutes=1):
        raise ConversationError("定时发送的时间已过，请选择将来的时间", {"scheduled_at": "定时发送的时间已过"})
    if when > now + timedelta(days=SCHEDULE_MAX_DAYS):
        raise ConversationError(f"定时发送最多提前 {SCHEDULE_MAX_DAYS} 天", {"scheduled_at": f"最多提前 {SCHEDULE_MAX_DAYS} 天"})
    return max(when, now)


@dataclass
class Draft:
    name: str
    scene: str
    target: dict
    content: dict
    scheduled_at: datetime
    gap_min: float
    gap_max: float


def clean(session: Session, data: dict, viewer: Viewer, now: datetime, tz: Optional[str] = None) -> Draft:
    """Everything a 群发 needs, checked; ConversationError with every wrong field."""
    errors: dict = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写群发名称"
    elif len(name) > NAME_MAX:
        errors["name"] = f"名称不能超过 {NAME_MAX} 字"
    scene = data.get("scene") or "activity"
    if scene not in SCENES:
        errors["scene"] = "场景无效"
        scene = "activity"
    out: dict = {}
    for key, fn in (("target", lambda: targets.clean_target(session, data.get("target"), own_accounts(viewer), tz)),
                    ("content", lambda: contents.clean_content(session, data.get("content"))),
                    ("scheduled_at", lambda: _when(data.get("scheduled_at"), now)),
                    ("gap_min", lambda: _float(data.get("gap_min_seconds"), "gap_min_seconds", "最小间隔")),
                    ("gap_max", lambda: _float(data.get("gap_max_seconds"), "gap_max_seconds", "最大间隔"))):
        try:
            out[key] = fn()
        except ConversationError as exc:
            errors.update(exc.errors or {key: exc.message})
    low, high = SCENE_GAPS[scene]
    gap_min = out.get("gap_min") if out.get("gap_min") is not None else float(low)
    gap_max = out.get("gap_max") if out.get("gap_max") is not None else max(float(high), gap_min)
    if "gap_min_seconds" not in errors and "gap_max_seconds" not in errors and gap_min > gap_max:
        errors["gap_max_seconds"] = "最大间隔不能小于最小间隔"
    if errors:
        raise ConversationError("群发信息有误：" + "；".join(errors.values()), errors)
    target = dict(out["target"])
    if not sees_all(viewer):
        target["scope_user_id"] = viewer.user_id
    return Draft(name, scene, target, out["content"], out["scheduled_at"], gap_min, gap_max)


def preview_count(session: Session, data: dict, viewer: Viewer, now: datetime, tz: Optional[str] = None) -> dict:
    """{"count", "accounts"} of the friends a target would reach now (before guards)."""
    target = targets.clean_target(session, data.get("target") if "target" in data else data, own_accounts(viewer), tz)
    friends = targets.recipients(session, target, own_accounts(viewer), now, tz)
    return {"count": len(friends), "accounts": len({f.account_id for f in friends})}


def create(session: Session, data: dict, viewer: Viewer, now: Optional[datetime] = None,
           tz: Optional[str] = None) -> Broadcast:
    now = as_utc(now or utcnow())
    draft = clean(session, data, viewer, now, tz)
    row = Broadcast(name=draft.name, scene=draft.scene, target=draft.target, content=draft.content,
                    scheduled_at=draft.scheduled_at, gap_min_seconds=draft.gap_min, gap_max_seconds=draft.gap_max,
                    created_by=viewer.user_id, created_at=now)
    session.add(row)
    session.flush()
    return row


def cancel(session: Session, broadcast_id, viewer: Viewer, now: Optional[datetime] = None) -> int:
    """Stops a 群发: recipients not yet planned are skipped (已取消); their queued or deferred device
    commands are cancelled too. Returns how many recipients it stopped."""
    now = as_utc(now or utcnow())
    row = get_broadcast(session, broadcast_id, viewer)
    if row.status in ("done", "cancelled"):
        raise ConversationError(f"群发已{BROADCAST_STATES[row.status]}，不能取消", {"__all__": "群发已结束"})
    stopped = 0
    waiting = session.exec(select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == row.id,
                                                            col(BroadcastRecipient.status).in_(("queued", "deferred")))).all()
    for rec in waiting:
        command = session.get(DeviceCommand, rec.command_id) if rec.command_id else None
        if command is not None and command.status in ("queued", "deferred"):
            cancel_command(session, command.id, now, reason="群发已取消")
            rec.status, rec.reason, rec.updated_at = "skipped", "群发已取消", now
            session.add(rec)
            stopped += 1
    stopped += session.execute(update(BroadcastRecipient).where(
        BroadcastRecipient.broadcast_id == row.id, BroadcastRecipient.status == "pending")
        .values(status="skipped", reason="群发已取消", updated_at=now)
        .execution_options(synchronize_session=False)).rowcount or 0
    row.status, row.cancelled_at, row.finished_at = "cancelled", now, now
    row.reason = "已手动取消"
    session.add(row)
    session.flush()
    return stopped


def counts(session: Session, broadcast_id: int) -> dict:
    """Recipients per state (every RECIPIENT_STATES key present)."""
    rows = session.exec(select(BroadcastRecipient.status, func.count()).where(
        BroadcastRecipient.broadcast_id == broadcast_id).group_by(BroadcastRecipient.status)).all()
    out = {k: 0 for k in RECIPIENT_STATES}
    out.update({status: int(n) for status, n in rows})
    return out
