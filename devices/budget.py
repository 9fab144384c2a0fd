"""风控预算: the one place that decides whether a phone may do something now, later, or never.

Every command — from a strategy, a workbench template or a manual send — is checked here before
it is queued, so no strategy can push an account past what seed 002 §6 allows:
- 封号 accounts refuse everything; paused accounts wait until the pause ends; offline ones retry later;
- an account whose 健康分 is below 30 is not used at all (seed 002 §6.2: 危险 → 停止使用);
- 敏感词 in any outgoing text refuse the send and name the word;
- 免打扰时段 (quiet hours) push the command to the end of the quiet period;
- 加好友 and 通过好友 per local day share ONE cap set by the health score (20/15/10/5/0): the
  seed's 每日加人上限 counts every new friend, however the friendship started;
- sends are paced per account with a random gap (group 3–8 s, 1:1 5–10 s) and capped per hour;
- a customer is touched automatically at most N times a day, across all strategies.
Over budget means deferred to the next allowed time, or refused, always with the reason.

Settings read (defaults in brackets): budget_group_gap_min_seconds [3], budget_group_gap_max_seconds [8],
budget_private_gap_min_seconds [5], budget_private_gap_max_seconds [10], budget_hourly_send_cap [300],
budget_customer_daily_touches [5], budget_quiet_hours ["" = off, e.g. "22:00-08:00"],
budget_offline_retry_minutes [30], budget_add_friend_caps [seed table], timezone.
"""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from typing import Optional

from sqlmodel import Session

from config.clock import as_utc, from_local, to_local
from config.timewindow import TimeWindow
from devices import sensitive
from devices.budget_store import store_for
from devices.budget_types import Allow, Cap, Decision, Defer, Refuse, Reservation, SlotRequest
from devices.health import add_friend_cap, band_label
from devices.models import WechatAccount

SEND_KINDS = frozenset({"send_text", "send_image", "send_link", "send_miniprogram"})
FRIEND_KINDS = frozenset({"add_friend", "accept_friend"})
SYSTEM_KINDS = frozenset({"sync_friends", "sync_groups", "restart", "unbind"})
GROUP_KINDS = frozenset({"create_group", "invite_to_group", "set_announcement"})
TOUCH_KINDS = SEND_KINDS | {"add_friend"}
KIND_LABELS = {"add_friend": "加好友", "accept_friend": "通过好友"}
FRIEND_COUNTER = "add_friend"  # the one daily counter adds and accepts share (its key predates accepts)
MIN_USABLE_HEALTH = 30  # seed 002 §6.2: below 30 (危险) → 停止使用


def unusable(account: WechatAccount) -> Optional[Refuse]:
    """Accounts nothing may be sent from, at issue and again at delivery (the score may have
    dropped while the command waited in the queue)."""
    if account.status == "banned":
        return Refuse("微信号已被封禁，不能执行")
    if account.health_score < MIN_USABLE_HEALTH:
        return Refuse(f"健康分 {account.health_score}（{band_label(account.health_score)}，低于 {MIN_USABLE_HEALTH}），"
                      f"按运营规范停止使用该微信号，恢复到 {MIN_USABLE_HEALTH} 分以上后再执行")
    return None
TEXT_FIELDS = ("text", "greeting", "title", "desc")


def _setting(settings, name: str, default):
    value = getattr(settings, name, None)
    return default if value is None else value


def outgoing_texts(kind: str, payload: dict) -> list[str]:
    texts = [str(payload[f]) for f in TEXT_FIELDS if payload.get(f)]
    link = payload.get("link")
    if isinstance(link, dict):
        texts += [str(link[f]) for f in ("title", "desc") if link.get(f)]
    return texts


def is_group_target(kind: str, payload: dict) -> bool:
    return kind in GROUP_KINDS or str(payload.get("to") or "").endswith("@chatroom")


def gap_window(kind: str, payload: dict, settings=None) -> tuple[float, float]:
    if is_group_target(kind, payload):
        low, high = (_setting(settings, "budget_group_gap_min_seconds", 3),
                     _setting(settings, "budget_group_gap_max_seconds", 8))
    else:
        low, high = (_setting(settings, "budget_private_gap_min_seconds", 5),
                     _setting(settings, "budget_private_gap_max_seconds", 10))
    return float(low), float(max(low, high))


def local_day_end(now: datetime, tz: str) -> datetime:
    """The next local midnight, when daily counters start again."""
    local = to_local(now, tz)
    return from_local(datetime.combine(local.date() + timedelta(days=1), time(0)), tz)


def quiet_until(now: datetime, settings=None) -> Optional[tuple[datetime, str]]:
    """(end of the quiet period, "22:00-08:00") when `now` is inside the configured quiet hours."""
    spec = str(_setting(settings, "budget_quiet_hours", "") or "").strip()
    if not spec:
        return None
    window = TimeWindow.parse(spec)
    tz = _setting(settings, "timezone", None)
    local = to_local(now, tz)
    if not window.contains(local):
        return None
    return from_local(window.closes_after(local), tz), str(window)


def _status_decision(account: WechatAccount, now: datetime, settings) -> Optional[Decision]:
    tz = _setting(settings, "timezone", None)  # banned accounts are refused by unusable() first
    if account.paused_until is not None and as_utc(account.paused_until) > now:
        why = f"（{account.pause_reason}）" if account.pause_reason else ""
        until = as_utc(account.paused_until)
        return Defer(until, f"微信号暂停中{why}，{to_local(until, tz):%m-%d %H:%M} 后恢复")
    if account.status == "paused" and account.paused_until is None:
        why = f"（{account.pause_reason}）" if account.pause_reason else ""
        return Refuse(f"微信号已被手动暂停{why}，请恢复后再发")
    if account.status == "offline":
        minutes = float(_setting(settings, "budget_offline_retry_minutes", 30))
        return Defer(now + timedelta(minutes=minutes), "微信号离线，上线后再执行")
    return None


def check(session: Session, account: WechatAccount, kind: str, payload: dict, *, customer_key: str = "",
          source: str = "strategy", now: datetime, settings=None, redis=None,
          rng: Optional[random.Random] = None) -> Decision:
    """放行 (Allow with its pacing slot) / 延后 (Defer until, reason) / 拒绝 (Refuse, reason).

    Runs inside the caller's write transaction: an Allow has already reserved its counters.
    """
    now = as_utc(now)
    if kind in SYSTEM_KINDS:  # syncing, restarting, unbinding a phone is never a risk to the account
        return Allow(now)
    for text in outgoing_texts(kind, payload):
        blocked, _warnings = sensitive.check_text(session, text)
        if blocked:
            return Refuse(f"内容含敏感词「{blocked}」，已拦截", {"blocked_word": blocked})
    decided = unusable(account) or _status_decision(account, now, settings)
    if decided is not None:
        return decided
    quiet = quiet_until(now, settings)
    if quiet is not None:
        return Defer(quiet[0], f"免打扰时段（{quiet[1]}），结束后执行")
    tz = _setting(settings, "timezone", None)
    day = to_local(now, tz).date()
    tomorrow = local_day_end(now, tz)
    scope = f"account:{account.id}"
    caps: list[Cap] = []
    if kind in FRIEND_KINDS:
        cap = add_friend_cap(account.health_score, settings)
        label = KIND_LABELS[kind]
        if cap <= 0:
            return Refuse(f"健康分 {account.health_score}（{band_label(account.health_score)}），今日{label}上限为 0，已停止")
        caps.append(Cap(scope, day, FRIEND_COUNTER, cap, tomorrow,
                        f"今日加好友与通过好友合计已达上限 {cap} 个（健康分 {account.health_score}），明天再执行"))
    if kind in SEND_KINDS:
        caps.append(Cap(scope, day, "send", None, tomorrow, ""))
    if customer_key and kind in TOUCH_KINDS and source != "manual":
        limit = int(_setting(settings, "budget_customer_daily_touches", 5))
        caps.append(Cap(f"customer:{customer_key}"[:100], day, "touch", limit, tomorrow,
                        f"该客户今日已被自动触达 {limit} 次（上限），明天再执行"))
    low, high = gap_window(kind, payload, settings)
    gap = (rng or random).uniform(low, high)
    hourly = int(_setting(settings, "budget_hourly_send_cap", 300)) if kind in SEND_KINDS else None
    slot = SlotRequest(scope, gap, hourly, tz)
    decision = store_for(session, settings, redis).reserve(Reservation(now, tuple(caps), slot))
    # Pacing can push the slot past the start of the quiet hours: it then waits for their end instead
    # (its counters stay spent, as a cancelled command's do).
    paced_quiet = quiet_until(as_utc(decision.not_before), settings) if isinstance(decision, Allow) else None
    if paced_quiet is not None:
        return Defer(paced_quiet[0], f"免打扰时段（{paced_quiet[1]}），结束后执行")
    return decision


def warnings_for(session: Session, kind: str, payload: dict) -> list[str]:
    """警告级敏感词 in the command's texts (sent anyway, noted in history)."""
    found: list[str] = []
    for text in outgoing_texts(kind, payload):
        for word in sensitive.check_text(session, text)[1]:
            if word not in found:
                found.append(word)
    return found


def usage(session: Session, account: WechatAccount, now: datetime, settings=None, redis=None) -> dict:
    """今日已用 vs 上限 for the 微信号管理 page."""
    tz = _setting(settings, "timezone", None)
    day = to_local(as_utc(now), tz).date()
    store = store_for(session, settings, redis)
    scope = f"account:{account.id}"
    cap = add_friend_cap(account.health_score, settings)
    friends = {"used": store.count(scope, day, FRIEND_COUNTER), "cap": cap}  # one cap for adds and accepts
    return {
        "add_friend": friends,
        "accept_friend": friends,
        "send": {"used": store.count(scope, day, "send"),
                 "hourly_cap": int(_setting(settings, "budget_hourly_send_cap", 300))},
    }
