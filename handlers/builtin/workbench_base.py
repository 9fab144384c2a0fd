"""What the workbench steps have in common: a command issued through the risk budget (the only
way to reach a phone) with a per-step idempotency key, and the Chinese note each outcome shows
in 事件历史 — 已排队, 已延后至 … 原因 …, or 已拒绝 with the reason."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, TypeVar

from sqlmodel import Session

from config.clock import as_utc, format_local, to_local
from config.timewindow import TimeWindow
from devices.budget_plan import BudgetUnavailable, write_with_budget
from devices.commands import CommandError, issue_command
from devices.models import DeviceCommand
from handlers.base import ProcessorContext
from handlers.errors import DeferStep, PermanentError

OUTAGE_DEFER_SECONDS = 60.0
OUTAGE_NOTE = f"风控计数服务（Redis）暂不可用，{int(OUTAGE_DEFER_SECONDS)} 秒后重试（不计尝试次数）"

T = TypeVar("T")
STATUS_LABELS = {"queued": "已排队", "deferred": "已延后", "refused": "已拒绝", "sent": "已下发", "acked": "已确认",
                 "succeeded": "已成功", "failed": "失败", "timeout": "超时", "cancelled": "已取消"}


def local_now(ctx: ProcessorContext) -> datetime:
    return to_local(ctx.services.now(), ctx.services.settings.timezone)


def in_window(local: datetime, start: str, end: str) -> bool:
    """HH:MM–HH:MM in local time; a window may cross midnight (config.timewindow's rule for the end minute)."""
    return TimeWindow.of(start or "00:00", end or "24:00").contains(local)


def write_budgeted(ctx: ProcessorContext, fn: Callable[[Session], T]) -> T:
    """`fn(session)` in one write transaction, its commands' budget decisions taken before it
    (devices.budget_plan: `fn` may run more than once, so it keeps no state outside itself).
    Redis down: the step is deferred without spending an attempt."""
    svc = ctx.services
    try:
        return write_with_budget(svc.db, fn, settings=svc.settings, redis=getattr(svc, "redis", None), now=svc.now())
    except BudgetUnavailable as exc:
        raise DeferStep(OUTAGE_NOTE, delay_seconds=OUTAGE_DEFER_SECONDS) from exc


def issue(session: Session, ctx: ProcessorContext, account_id: int, kind: str, payload: dict, suffix: str = "",
          customer_key: str = "", not_before: datetime | None = None) -> DeviceCommand:
    """Issues one command; `not_before` only ever delays a queued command further (never earlier)."""
    key = f"{ctx.idempotency_key}:{suffix}" if suffix else ctx.idempotency_key
    try:
        command = issue_command(session, account_id, kind, payload, source="template", idempotency_key=key[:128],
                                task_id=ctx.task_id or None, customer_key=customer_key, now=ctx.services.now(),
                                settings=ctx.services.settings, redis=ctx.services.redis)
    except CommandError as exc:
        raise PermanentError(exc.message) from None
    if not_before is not None and command.status == "queued":
        current = as_utc(command.not_before) if command.not_before else None
        if current is None or current < not_before:
            command.not_before = not_before
            session.add(command)
    return command


def brief(command: DeviceCommand) -> dict:
    return {"command_id": command.id, "account_id": command.account_id, "kind": command.kind,
            "status": command.status, "reason": command.reason,
            "not_before": as_utc(command.not_before).isoformat() if command.not_before else None}


def note(command: DeviceCommand, tz: str) -> str:
    if command.status == "deferred":
        until = format_local(command.not_before, "%m-%d %H:%M", tz, empty="稍后")
        return f"已延后至 {until}，原因：{command.reason}"
    if command.status == "refused":
        return f"已拒绝：{command.reason}"
    return STATUS_LABELS.get(command.status, command.status)


def first_step_key(idempotency_key: str) -> str:
    """The key of step 0 for the same event and strategy ("record:strategy:step" → "record:strategy:0"):
    a follow-up step (retry, setup) finds the commands the first step issued under it."""
    record, strategy, _step = idempotency_key.rsplit(":", 2)
    return f"{record}:{strategy}:0"


def spaced(start: datetime, index: int, seconds: float) -> datetime:
    return start + timedelta(seconds=index * seconds)
