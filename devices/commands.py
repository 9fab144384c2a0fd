"""设备指令: the only way anything — a strategy, a workbench template, a manual send — asks a
phone to act. Each command passes the risk budget first and is stored as 排队 (with the time it
may go, for pacing), 延后 (with when and why) or 拒绝 (with why); nothing is silently dropped.

Issuing is idempotent on the idempotency key: a retried strategy step gets its first command
back instead of sending twice. Deferred commands are re-checked by `recheck_deferred` when their
time comes (the delivery loop or a cron job calls it). The gateway registers `on_issued` to start
delivering a queued command the moment its transaction commits.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Optional

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from config import metrics
from config.clock import as_utc, utcnow
from config.redis_factory import is_outage
from devices import budget, command_wakeup
from devices.budget_plan import planned_decision
from devices.budget_types import Allow, Defer, Refuse
from devices.models import DeviceCommand, WechatAccount

log = logging.getLogger(__name__)

# kind → payload fields that must be present (one of a tuple is enough).
COMMAND_KINDS: dict[str, tuple] = {
    "accept_friend": (("wxid", "request_id"),), "add_friend": (("phone", "wxid"),),
    "send_text": ("to", "text"), "send_image": ("to", ("url", "material_id")), "send_link": ("to", "url"),
    "send_miniprogram": ("to", "appid"), "like_moment": ("moment_id",), "comment_moment": ("moment_id", "text"),
    "post_moment": (("text", "media", "link", "material_ids"),), "create_group": ("members",),
    "invite_to_group": ("chatroom_id", "members"), "set_announcement": ("chatroom_id", "text"),
    "sync_friends": (), "sync_groups": (), "restart": (), "unbind": (),
}
CANCELLABLE = ("queued", "deferred")
SOURCES = ("strategy", "manual", "template", "system")


class CommandError(ValueError):
    """The command cannot be created or changed at all (unknown kind, missing field, no account)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class IssuedCommand:
    """What a wake-up callback learns after commit (no database objects cross threads)."""

    id: int
    account_id: int
    device_id: Optional[int]
    kind: str
    not_before: Optional[datetime]


_callbacks: list[Callable[[IssuedCommand], None]] = []
_callbacks_lock = threading.Lock()


def on_issued(callback: Callable[[IssuedCommand], None]) -> Callable[[], None]:
    """Calls `callback` after commit for every newly queued command; returns an unregister function."""
    with _callbacks_lock:
        _callbacks.append(callback)

    def unregister() -> None:
        with _callbacks_lock:
            if callback in _callbacks:
                _callbacks.remove(callback)
    return unregister


def _after_commit(session: Session) -> None:
    pending = session.info.pop("ckb_issued", [])
    session.info.pop("ckb_issued_hooked", None)
    command_wakeup.forget_transaction(session)
    with _callbacks_lock:
        callbacks = list(_callbacks)
    for item in pending:
        for callback in callbacks:
            try:
                callback(item)
            except Exception:  # noqa: BLE001 - a broken listener must not undo a committed command
                log.exception("on_issued callback failed", extra={"command_id": item.id})


def _after_rollback(session: Session) -> None:
    session.info.pop("ckb_issued", None)
    session.info.pop("ckb_issued_hooked", None)
    command_wakeup.forget_transaction(session)


def _announce(session: Session, command: DeviceCommand) -> None:
    if command.status != "queued":
        return
    session.info.setdefault("ckb_issued", []).append(IssuedCommand(
        command.id, command.account_id, command.device_id, command.kind, command.not_before))
    if not session.info.get("ckb_issued_hooked"):
        session.info["ckb_issued_hooked"] = True
        command_wakeup.notify_in_transaction(session)  # other processes' delivery wakes at commit
        event.listen(session, "after_commit", _after_commit, once=True)
        event.listen(session, "after_soft_rollback", lambda s, _t: _after_rollback(s), once=True)


def validate_payload(kind: str, payload: dict) -> None:
    if kind not in COMMAND_KINDS:
        raise CommandError(f"不支持的指令类型：{kind}")
    if not isinstance(payload, dict):
        raise CommandError("指令内容必须是对象")
    for need in COMMAND_KINDS[kind]:
        names = need if isinstance(need, tuple) else (need,)
        if not any(payload.get(n) not in (None, "", []) for n in names):
            raise CommandError(f"指令 {kind} 缺少 {'或'.join(names)}")


def _existing(session: Session, key: Optional[str]) -> Optional[DeviceCommand]:
    if not key:
        return None
    return session.exec(select(DeviceCommand).where(DeviceCommand.idempotency_key == key)).first()


def _apply(command: DeviceCommand, decision, warnings: list[str]) -> None:
    note = f"（含提示词：{'、'.join(warnings)}）" if warnings else ""
    metrics.BUDGET_DECISIONS.labels(type(decision).__name__.lower()).inc()
    if isinstance(decision, Allow):
        command.status, command.not_before, command.reason = "queued", decision.not_before, note
    elif isinstance(decision, Defer):
        command.status, command.not_before, command.reason = "deferred", decision.until, (decision.reason + note)[:500]
    elif isinstance(decision, Refuse):
        command.status, command.reason = "refused", decision.reason[:500]
        command.result = {**(command.result or {}), **decision.detail}


def reserve_budget(db, account_id: int, kind: str, payload: dict, *, customer_key: str = "",
                   source: str = "strategy", now: Optional[datetime] = None, settings=None, redis=None):
    """The budget decision, taken BEFORE the caller's write transaction when the budget lives in
    Redis, so the network round trip never holds the database write lock (a frozen Redis used
    to stall every writer for its socket timeout). Pass the result to issue_command(decision=).
    None without Redis: then the counters are rows, written in the caller's transaction."""
    if redis is None and not getattr(settings, "redis_url", ""):
        return None
    validate_payload(kind, payload)
    with db.read() as session:
        account = session.get(WechatAccount, account_id)
        if account is None:
            return None
        return budget.check(session, account, kind, payload, customer_key=customer_key, source=source,
                            now=as_utc(now) if now is not None else utcnow(), settings=settings, redis=redis)


def issue_command(session: Session, account_id: int, kind: str, payload: dict, *, source: str = "strategy",
                  idempotency_key: Optional[str] = None, task_id: Optional[int] = None, customer_key: str = "",
                  now: Optional[datetime] = None, settings=None, redis=None, decision=None) -> DeviceCommand:
    """Creates a command through the risk budget (inside the caller's write transaction);
    `decision` is one reserve_budget took beforehand, outside that transaction — or, inside
    devices.budget_plan.write_with_budget, the plan supplies it. Only without either does the
    budget decide here, which with Redis means a network call under the write lock."""
    found = _existing(session, idempotency_key)
    if found is not None:
        return found
    validate_payload(kind, payload)
    account = session.get(WechatAccount, account_id)
    if account is None:
        raise CommandError(f"微信号不存在（ID {account_id}）")
    now = as_utc(now) if now is not None else utcnow()
    # The budget's counters and the command row commit or roll back together; a concurrent
    # issuer of the same key loses on the unique index and gets the winner's command back.
    if decision is None:  # inside write_with_budget: taken before this transaction (or provisional)
        decision = planned_decision(session, idempotency_key, account.id, kind, payload, customer_key,
                                    source, now)
    try:
        with session.begin_nested():
            if decision is None:
                decision = budget.check(session, account, kind, payload, customer_key=customer_key, source=source,
                                        now=now, settings=settings, redis=redis)
            command = DeviceCommand(device_id=account.device_id, account_id=account.id, kind=kind,
                                    payload=dict(payload), source=source if source in SOURCES else "system",
                                    idempotency_key=idempotency_key or None, task_id=task_id,
                                    customer_key=(customer_key or "")[:100], created_at=now)
            _apply(command, decision, budget.warnings_for(session, kind, payload)
                   if not isinstance(decision, Refuse) else [])
            if command.status == "refused":
                command.finished_at = now
            session.add(command)
            session.flush()
    except IntegrityError:
        found = _existing(session, idempotency_key)
        if found is None:
            raise
        return found
    _announce(session, command)
    return command


def _due_deferred(session: Session, now: datetime, limit: int) -> list[DeviceCommand]:
    return list(session.exec(select(DeviceCommand).where(DeviceCommand.status == "deferred",
                                                         col(DeviceCommand.not_before) <= now)
                             .order_by(DeviceCommand.not_before, DeviceCommand.id).limit(limit)).all())


def decide_deferred(db, now: datetime, settings=None, redis=None, limit: int = 200) -> Optional[dict]:
    """With the budget in Redis: the decisions for the deferred commands now due, taken with no
    write transaction open (reserve_budget), for `recheck_deferred(decisions=…)`. Stops at a
    Redis outage, keeping what was decided: the rest stay deferred and are looked at next round.
    None without Redis (the counters are rows in the write transaction)."""
    if redis is None and not getattr(settings, "redis_url", ""):
        return None
    now = as_utc(now)
    with db.read() as session:
        due = [(c.id, c.account_id, c.kind, dict(c.payload or {}), c.customer_key, c.source)
               for c in _due_deferred(session, now, limit)]
    decisions: dict = {}
    for command_id, account_id, kind, payload, customer_key, source in due:
        try:
            decisions[command_id] = reserve_budget(db, account_id, kind, payload, customer_key=customer_key,
                                                   source=source, now=now, settings=settings, redis=redis)
        except CommandError as exc:
            decisions[command_id] = Refuse(exc.message)  # the real reason, as budget_plan._decide keeps it
        except Exception as exc:
            if not is_outage(exc):
                raise
            log.warning("Redis 不可用：延后的指令下一轮再检查", extra={"command_id": command_id})
            break
    return decisions


def recheck_deferred(session: Session, now: datetime, settings=None, redis=None, limit: int = 200,
                     decisions: Optional[dict] = None) -> dict:
    """Deferred commands whose time has come go through the budget again: queued, deferred anew
    (e.g. tomorrow's cap is already taken) or refused. Returns the counts per new status.
    `decisions` (from `decide_deferred`) were taken before this transaction: only those
    commands are looked at, so no Redis call happens while the write lock is held; each one
    used is removed from the dict, leaving the unused ones for the caller to give back."""
    now = as_utc(now)
    due = _due_deferred(session, now, limit)
    counts: dict[str, int] = {}
    for command in due:
        if decisions is not None and command.id not in decisions:
            continue
        account = session.get(WechatAccount, command.account_id)
        if account is None:
            decision = Refuse("微信号已删除")
        elif decisions is not None and decisions[command.id] is not None:
            decision = decisions.pop(command.id)
        else:
            with session.begin_nested():
                decision = budget.check(session, account, command.kind, command.payload,
                                        customer_key=command.customer_key, source=command.source, now=now,
                                        settings=settings, redis=redis)
        _apply(command, decision, [])
        if command.status == "refused":
            command.finished_at = now
        session.add(command)
        session.flush()
        _announce(session, command)
        counts[command.status] = counts.get(command.status, 0) + 1
    return counts


def cancel_command(session: Session, command_id: int, now: Optional[datetime] = None,
                   reason: str = "已手动取消") -> DeviceCommand:
    """Cancels a command that has not gone to the phone yet (its budget stays spent)."""
    command = session.get(DeviceCommand, command_id)
    if command is None:
        raise CommandError(f"指令不存在（ID {command_id}）")
    if command.status not in CANCELLABLE:
        raise CommandError(f"指令当前状态为 {command.status}，已无法取消")
    command.status = "cancelled"
    command.reason = reason[:500]
    command.finished_at = as_utc(now) if now is not None else utcnow()
    session.add(command)
    session.flush()
    return command


def list_commands(session: Session, filters: Optional[dict] = None) -> list[DeviceCommand]:
    """Commands newest first; filters: account_id, device_id, status (one or a list), kind, source,
    task_id, since, until (created_at), limit (default 100), offset."""
    f = dict(filters or {})
    query = select(DeviceCommand)
    for name in ("account_id", "device_id", "kind", "source", "task_id"):
        if f.get(name) not in (None, ""):
            query = query.where(getattr(DeviceCommand, name) == f[name])
    status = f.get("status")
    if status:
        statuses = [status] if isinstance(status, str) else list(status)
        query = query.where(col(DeviceCommand.status).in_(statuses))
    if f.get("since"):
        query = query.where(DeviceCommand.created_at >= as_utc(f["since"]))
    if f.get("until"):
        query = query.where(DeviceCommand.created_at < as_utc(f["until"]))
    limit = max(1, min(int(f.get("limit") or 100), 1000))
    query = query.order_by(col(DeviceCommand.id).desc()).offset(int(f.get("offset") or 0)).limit(limit)
    return list(session.exec(query).all())
