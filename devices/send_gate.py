"""发送闸门: the risk budget checked once more at the moment a command leaves for the phone.

The budget sets each command's earliest time when it is queued, but what the platform sees is
when commands reach the phone: a 0.5 s delivery poll, a slow commit or a backlog flushed after a
reconnect can squeeze two sends closer than the gap planned at issue — a 3.0 s gap arrived as
2.9 s and WeChat answered 操作过于频繁. So, per account, delivery keeps when its last paced
command actually went out and holds the next one until a floor strictly above the platform's
threshold has passed (budget_delivery_floor_seconds + 0..budget_delivery_jitter_seconds, the
jitter fixed per command). The account's state is checked again too: a paused account's queue
waits for the pause to end; a banned one, or one whose 健康分 fell below 30 while its commands
waited, sends nothing more (refused, with the reason).
"""
from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.clock import as_utc
from devices.budget import SYSTEM_KINDS, unusable
from devices.budget_types import Refuse
from devices.models import DeviceCommand, WechatAccount

MANUAL_PAUSE_RECHECK = timedelta(minutes=1)


class _Tunable:
    """Seconds read from the settings at each use (参数配置 changes them while running), unless
    set on the gate by hand (tests, drills)."""

    def __init__(self, key: str, default: float):
        self.key, self.default = key, default

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, gate, owner=None):
        if gate is None:
            return self
        return gate._fixed.get(self.name, float(getattr(gate._settings, self.key, self.default)))

    def __set__(self, gate, seconds: float) -> None:
        gate._fixed[self.name] = float(seconds)


class SendGate:
    floor = _Tunable("budget_delivery_floor_seconds", 3.5)
    jitter = _Tunable("budget_delivery_jitter_seconds", 1.0)

    def __init__(self, settings=None):
        self._settings = settings
        self._fixed: dict[str, float] = {}
        self._last: dict[int, datetime] = {}  # account id → when its last paced command left this process
        self._lock = threading.Lock()

    def gap(self, command_id: int) -> timedelta:
        """The floor plus this command's own jitter (the same on every poll, so waiting never
        turns into a lottery that ends at the floor)."""
        return timedelta(seconds=self.floor + random.Random(command_id).uniform(0, self.jitter))

    def sent(self, account_id: int, at: datetime) -> None:
        with self._lock:
            self._last[account_id] = max(self._last.get(account_id, at), at)

    def _last_sent(self, session: Session, account_ids: set[int]) -> dict[int, datetime]:
        with self._lock:
            known = dict(self._last)
        missing = account_ids - set(known)
        if missing:  # after a restart or a reconnect to this process: what the database saw
            rows = session.exec(select(DeviceCommand.account_id, func.max(DeviceCommand.sent_at)).where(
                col(DeviceCommand.account_id).in_(missing), col(DeviceCommand.sent_at).is_not(None),
                col(DeviceCommand.kind).not_in(SYSTEM_KINDS)).group_by(DeviceCommand.account_id)).all()
            known.update({account_id: as_utc(at) for account_id, at in rows if at is not None})
        return known

    def sort(self, session: Session, due: list[tuple[DeviceCommand, WechatAccount]], now: datetime):
        """Splits due commands (in id order) into those that go now, {account id: hold until} for
        accounts whose queue must wait, and (command, Refuse) for those never to be sent."""
        paced = {account.id for cmd, account in due if cmd.kind not in SYSTEM_KINDS}
        last = self._last_sent(session, paced) if paced else {}
        go, holds, refused = [], {}, []
        for cmd, account in due:
            if cmd.kind in SYSTEM_KINDS:
                go.append((cmd, account))
                continue
            if account.id in holds:  # an earlier command of this account waits: keep the order
                continue
            refusal = unusable(account)
            if refusal is not None:
                refused.append((cmd, refusal))
                continue
            if account.paused_until is not None and as_utc(account.paused_until) > now:
                holds[account.id] = as_utc(account.paused_until)
                continue
            if account.status == "paused" and account.paused_until is None:  # paused by hand: look again soon
                holds[account.id] = now + MANUAL_PAUSE_RECHECK
                continue
            previous = last.get(account.id)
            if previous is not None and now < previous + self.gap(cmd.id):
                holds[account.id] = previous + self.gap(cmd.id)
                continue
            go.append((cmd, account))
            last[account.id] = now
        return go, holds, refused


def refuse(cmd: DeviceCommand, refusal: Refuse, now: datetime) -> None:
    cmd.status, cmd.reason, cmd.finished_at = "refused", f"下发前拦截：{refusal.reason}"[:500], now
    cmd.error = cmd.reason
