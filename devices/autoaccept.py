"""好友请求自动通过: the rules an operator sets (greeting keywords, sources, a daily cap per account,
a time window), tried in order; the first that matches accepts the request through the risk
budget like any other command — a rule can never push an account past its add-friend cap.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, select

from config.clock import from_local, to_local
from config.errors import ClockError
from config.timewindow import ALL_DAY, TimeWindow
from devices.models import AutoAcceptRule, FriendRequest


def in_window(rule: AutoAcceptRule, local: datetime) -> bool:
    """Inside the rule's daily window (config.timewindow: the end minute does not count)."""
    try:
        window = TimeWindow.of(rule.start_time or "00:00", rule.end_time or "24:00")
    except ClockError:
        window = ALL_DAY  # a rule saved before validation existed: as if it had no window
    return window.contains(local)


def accepted_today(session: Session, account_id: int, now: datetime, tz: str) -> int:
    """Requests of this account accepted since local midnight, whoever accepted them."""
    local = to_local(now, tz)
    midnight = from_local(datetime.combine(local.date(), time(0, 0)), tz)
    return session.exec(select(func.count()).select_from(FriendRequest).where(
        FriendRequest.account_id == account_id, FriendRequest.status == "accepted",
        FriendRequest.handled_at >= midnight, FriendRequest.handled_at < midnight + timedelta(days=1))).one()


def rule_matches(rule: AutoAcceptRule, request: FriendRequest, local: datetime) -> bool:
    if rule.account_ids and request.account_id not in {int(a) for a in rule.account_ids if str(a).isdigit()}:
        return False
    if rule.keywords and not any(str(k) and str(k) in (request.greeting or "") for k in rule.keywords):
        return False
    if rule.sources and request.source not in rule.sources:
        return False
    return in_window(rule, local)


def choose_rule(session: Session, request: FriendRequest, now: datetime, tz: str) -> Optional[AutoAcceptRule]:
    """The first enabled rule (by position, then id) that matches and still has room today."""
    rules = session.exec(select(AutoAcceptRule).where(AutoAcceptRule.enabled == True)  # noqa: E712
                         .order_by(AutoAcceptRule.position, AutoAcceptRule.id)).all()
    local = to_local(now, tz)
    count = None
    for rule in rules:
        if not rule_matches(rule, request, local):
            continue
        if count is None:
            count = accepted_today(session, request.account_id, now, tz)
        if count < max(0, rule.daily_cap):
            return rule
    return None
