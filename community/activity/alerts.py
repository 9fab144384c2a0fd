"""群活监控: rules (for all groups or one) evaluated by a cron job; each (rule, group) where the
condition starts to hold opens one alert — an episode — and raises its event into the ledger once
(event id "group_alert:<alert id>", so a re-run job cannot raise it twice); the episode closes
when the condition clears, and only then may a new one open. Strategies on group.inactive /
group.churning act on it (notify the owner, push content)."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from community.activity.alert_events import ensure_definitions
from community.activity.conditions import CONDITIONS
from community.activity.days import day_of
from community.activity.models import ALERT_EVENTS, ALERT_KINDS, GroupAlert, GroupAlertRule
from community.errors import CommunityError, CommunityNotFound
from crm.events_out import emit
from devices.models import ChatGroup, WechatAccount

SOURCE = "community"
LIMITS = {"silent": (1, 90), "low_speakers": (1, 100), "churning": (1, 90)}


def evaluate(session: Session, now: datetime, tz: str) -> dict:
    """Opens and closes episodes for every enabled rule; returns {"opened", "closed", "open"}."""
    today = day_of(now, tz)
    opened = closed = 0
    rules = session.exec(select(GroupAlertRule).where(GroupAlertRule.enabled == True)  # noqa: E712
                         .order_by(GroupAlertRule.id)).all()
    for rule in rules:
        ids = [rule.group_id] if rule.group_id else None
        holding = CONDITIONS[rule.kind](session, rule, ids, now, today, tz)
        current = {a.group_id: a for a in session.exec(select(GroupAlert).where(
            GroupAlert.rule_id == rule.id, GroupAlert.status == "open"))}
        for gid, alert in current.items():
            if gid not in holding:
                alert.status, alert.closed_at = "closed", now
                session.add(alert)
                closed += 1
        fresh = [gid for gid in holding if gid not in current]
        if fresh:
            ensure_definitions(session)
        for gid in sorted(fresh):
            detail, figures = holding[gid]
            alert = GroupAlert(rule_id=rule.id, group_id=gid, kind=rule.kind, detail=detail[:300], figures=figures,
                               event_code=ALERT_EVENTS[rule.kind], opened_at=now)
            session.add(alert)
            session.flush()
            _raise(session, rule, alert, tz, now)
            opened += 1
    # rules deleted or disabled: their open episodes end
    stale = session.exec(select(GroupAlert).where(GroupAlert.status == "open", col(GroupAlert.rule_id).notin_(
        [r.id for r in rules] or [0]))).all()
    for alert in stale:
        alert.status, alert.closed_at = "closed", now
        session.add(alert)
        closed += 1
    total_open = len(session.exec(select(GroupAlert.id).where(GroupAlert.status == "open")).all())
    return {"opened": opened, "closed": closed, "open": total_open}


def _raise(session: Session, rule: GroupAlertRule, alert: GroupAlert, tz: str, now: datetime) -> None:
    group = session.get(ChatGroup, alert.group_id)
    account = session.get(WechatAccount, group.account_id) if group else None
    data = {"group_id": alert.group_id, "group_name": group.name if group else "", "alert_id": alert.id,
            "chatroom_id": group.chatroom_id if group else "", "account_id": group.account_id if group else None,
            "owner_user_id": account.owner_user_id if account else None, "rule_id": rule.id, "rule_name": rule.name,
            "kind": rule.kind, "detail": alert.detail, "members": group.member_count if group else 0, "days": rule.days}
    if alert.figures.get("last_message_at"):
        data["last_message_at"] = alert.figures["last_message_at"]
    emit(session, alert.event_code, {k: v for k, v in data.items() if v is not None}, tz, source=SOURCE,
         event_id=f"group_alert:{alert.id}", now=now)


# -- rules ------------------------------------------------------------------------------------
def _int(values: dict, name: str, label: str, low: int, high: int, errors: dict):
    raw = values.get(name)
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):
        errors[name] = f"{label}应为整数"
        return None
    if not low <= number <= high:
        errors[name] = f"{label}应在 {low} 到 {high} 之间"
        return None
    return number


def clean_rule(session: Session, values: dict) -> dict:
    """Validated rule fields, or CommunityError naming each bad field (in Chinese)."""
    errors: dict = {}
    name = str(values.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写规则名称"
    elif len(name) > 100:
        errors["name"] = "规则名称最多 100 个字"
    kind = values.get("kind")
    if kind not in ALERT_KINDS:
        errors["kind"] = "请选择预警类型"
    days = _int(values, "days", "统计天数", 1, 90, errors)
    threshold = 0
    if kind == "low_speakers":
        threshold = _int(values, "threshold", "发言人数占比（%）", 1, 100, errors)
    group_id = values.get("group_id")
    if group_id in (None, "", "0", 0):
        group_id = None
    else:
        try:
            group_id = int(group_id)
        except (TypeError, ValueError):
            group_id = -1
        if group_id < 1 or group_id > 2 ** 31 or session.get(ChatGroup, group_id) is None:
            errors["group_id"] = "群不存在"
    if errors:
        raise CommunityError("；".join(errors.values()), errors)
    return {"name": name, "kind": kind, "days": days, "threshold": threshold or 0, "group_id": group_id,
            "enabled": bool(values.get("enabled", True))}


def save_rule(session: Session, values: dict, user_id: int | None, now: datetime, rule_id: int | None = None) -> GroupAlertRule:
    clean = clean_rule(session, values)
    rule = GroupAlertRule(created_by=user_id, created_at=now) if rule_id is None else get_rule(session, rule_id)
    changed_condition = rule_id is not None and (rule.kind, rule.days, rule.threshold, rule.group_id) != (
        clean["kind"], clean["days"], clean["threshold"], clean["group_id"])
    for key, value in clean.items():
        setattr(rule, key, value)
    rule.updated_at = now
    session.add(rule)
    session.flush()
    if changed_condition:  # a different condition: the old episodes do not describe it any more
        for alert in session.exec(select(GroupAlert).where(GroupAlert.rule_id == rule.id, GroupAlert.status == "open")):
            alert.status, alert.closed_at = "closed", now
            session.add(alert)
    return rule


def get_rule(session: Session, rule_id: int) -> GroupAlertRule:
    rule = session.get(GroupAlertRule, rule_id)
    if rule is None:
        raise CommunityNotFound("规则不存在或已删除")
    return rule


def delete_rule(session: Session, rule_id: int, now: datetime) -> GroupAlertRule:
    rule = get_rule(session, rule_id)
    for alert in session.exec(select(GroupAlert).where(GroupAlert.rule_id == rule.id, GroupAlert.status == "open")):
        alert.status, alert.closed_at = "closed", now
        session.add(alert)
    session.delete(rule)
    return rule


def describe_rule(rule: GroupAlertRule) -> str:
    if rule.kind == "silent":
        return f"连续 {rule.days} 天无消息"
    if rule.kind == "low_speakers":
        return f"近 {rule.days} 天发言人数低于成员的 {rule.threshold}%"
    return f"近 {rule.days} 天退群人数多于入群人数"
