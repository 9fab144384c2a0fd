"""健康分: how safe a WeChat account is to use right now (0–100), and what it may do today.

The score moves with what happens to the account, and every move is kept (HealthEvent) so
矩阵管理 can see why an account dropped: 操作过于频繁 −15 and a 24-hour pause, 消息轰炸 or a
complaint −20 and a 24-hour pause, a verification prompt −10, being deleted by a friend −2, and
+5 for every clean week (up to 100). The score decides the daily add-friend cap (seed 002 §6.2),
adds and accepts together: 90–100 → 20, 70–89 → 15, 50–69 → 10, 30–49 → 5, below 30 → 0 — and
below 30 the account is not used at all (停止使用; devices.budget.unusable).

On a risk signal the account pauses itself and a line is written to its device's log. devices
cannot reach the CRM, so telling the account's owner (owner_user_id) is left to a processor or
strategy listening to device.risk_signal.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlmodel import Session, col, select

from config.clock import as_utc, to_local
from devices.models import DeviceLog, HealthEvent, WechatAccount

# (lowest score of the band, adds per local day), best band first — seed 002 §6.2.
ADD_FRIEND_CAPS = ((90, 20), (70, 15), (50, 10), (30, 5), (0, 0))
CLEAN_STREAK_DAYS = 7
CLEAN_STREAK_BONUS = 5


@dataclass(frozen=True)
class RiskRule:
    delta: int
    pause: bool
    label: str


RISK_RULES = {
    "too_frequent": RiskRule(-15, True, "操作过于频繁"),
    "complaint": RiskRule(-20, True, "消息轰炸/被投诉"),
    "verification": RiskRule(-10, False, "出现安全验证"),
    "deleted_by_friend": RiskRule(-2, False, "被好友删除"),
    "banned": RiskRule(-100, False, "账号被封禁"),
}


def add_friend_cap(score: int, settings=None) -> int:
    table = getattr(settings, "budget_add_friend_caps", None) or ADD_FRIEND_CAPS
    for floor, cap in sorted(((int(a), int(b)) for a, b in table), reverse=True):
        if score >= floor:
            return cap
    return 0


def daily_caps(score: int, settings=None) -> dict[str, int]:
    """What an account with this score may do per local day: adds and accepts share this one cap
    (devices.budget counts them together), listed under both names for the pages."""
    cap = add_friend_cap(score, settings)
    return {"add_friend": cap, "accept_friend": cap}


def band_label(score: int) -> str:
    for floor, label in ((90, "优秀"), (70, "良好"), (50, "一般"), (30, "警告")):
        if score >= floor:
            return label
    return "危险"


def adjust_score(session: Session, account: WechatAccount, delta: int, reason: str, now: datetime) -> int:
    """Moves the score within 0–100 and records the move; returns the applied delta."""
    after = max(0, min(100, account.health_score + delta))
    applied = after - account.health_score
    account.health_score = after
    session.add(account)
    session.add(HealthEvent(account_id=account.id, delta=applied, score_after=after, reason=reason[:200],
                            created_at=now))
    return applied


def _log(session: Session, account: WechatAccount, message: str, now: datetime) -> None:
    # DeviceLog needs a device; an account not (yet) bound to a phone keeps its HealthEvent only.
    if account.device_id is not None:
        session.add(DeviceLog(device_id=account.device_id, kind="alert", message=message[:1000], created_at=now))


def apply_risk_signal(session: Session, account_id: int, kind: str, now: datetime, text: str = "",
                      settings=None) -> Optional[WechatAccount]:
    """A phone reported trouble: lower the score, pause the account if the signal calls for it,
    and leave a log line. Unknown kinds still log; an unknown account is ignored (None)."""
    account = session.get(WechatAccount, account_id)
    if account is None:
        return None
    now = as_utc(now)
    rule = RISK_RULES.get(kind)
    label = rule.label if rule else f"风险提示（{kind}）"
    detail = f"：{text}" if text else ""
    if rule is not None:
        adjust_score(session, account, rule.delta, f"{label}{detail}", now)
    if kind == "banned":
        account.status = "banned"
        account.pause_reason = f"{label}{detail}"[:200]
    elif rule is not None and rule.pause:
        hours = float(getattr(settings, "risk_pause_hours", 24))
        until = now + timedelta(hours=hours)
        account.paused_until = max(as_utc(account.paused_until), until) if account.paused_until else until
        account.status = "paused"
        account.pause_reason = f"{label}{detail}"[:200]
    if kind != "deleted_by_friend":
        account.clean_since = now  # any real risk restarts the clean-week count
    session.add(account)
    name = account.nickname or account.wxid
    tz = getattr(settings, "timezone", None)
    paused = (f"，已暂停至 {to_local(account.paused_until, tz):%Y-%m-%d %H:%M}"
              if account.status == "paused" and account.paused_until else "")
    _log(session, account, f"微信号「{name}」{label}{detail}，健康分 {account.health_score}{paused}", now)
    session.flush()
    return account


def resume_due(session: Session, now: datetime) -> int:
    """Accounts whose pause has run out go back to normal (the budget already ignores an expired pause)."""
    now = as_utc(now)
    accounts = session.exec(select(WechatAccount).where(WechatAccount.status == "paused",
                                                        col(WechatAccount.paused_until).is_not(None))).all()
    resumed = 0
    for account in accounts:
        if as_utc(account.paused_until) <= now:
            account.status = "normal"
            account.pause_reason = ""
            session.add(account)
            _log(session, account, f"微信号「{account.nickname or account.wxid}」暂停结束，恢复正常", now)
            resumed += 1
    session.flush()
    return resumed


def reward_clean_weeks(session: Session, now: datetime) -> int:
    """+5 for each account that went a whole week without a risk signal (a daily cron job)."""
    now = as_utc(now)
    since = now - timedelta(days=CLEAN_STREAK_DAYS)
    rewarded = 0
    for account in session.exec(select(WechatAccount).where(WechatAccount.status != "banned")).all():
        if account.clean_since is None:
            account.clean_since = now  # the streak starts counting from the first run
        elif as_utc(account.clean_since) <= since:
            if account.health_score < 100:
                adjust_score(session, account, CLEAN_STREAK_BONUS, f"连续{CLEAN_STREAK_DAYS}天无风险", now)
                rewarded += 1
            account.clean_since = now
        session.add(account)
    session.flush()
    return rewarded
