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
from devices.models import AutoAcceptRule, FriendRequest


def _hhmm(value: str, default: time) -> time:
    try:
        hh, mm = str(value).split(":")
        return time(int(hh), int(mm))
    except (ValueError, TypeError):
        return default


def in_window(rule: AutoAcceptRule, local: datetime) -> bool:
    start, end = _hhmm(rule.start_time, time(0, 0)), _hhmm(rule.end_time, time(23, 59))
    now = local.time().replace(second=0, microsecond=0)
    if start <= end:
        return start <= now <= end
    return now >= start or now <= end  # a window across midnight, e.g. 22:00–08:00


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
