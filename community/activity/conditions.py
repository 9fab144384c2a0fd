"""The three 群活监控 conditions, each evaluated for many groups at once from the day rollup:
silent (no message for N days), low_speakers (distinct speakers over N days below X % of the
members), churning (quits above joins over N days). Each returns {group_id: (detail, figures)}
for the groups where the condition holds now."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Callable

from sqlalchemy import func
from sqlmodel import Session, col, select

from community.activity.days import window
from community.activity.models import GroupActivityDay, GroupAlertRule, GroupSpeakerDay
from config.clock import as_utc, format_local
from devices.models import ChatGroup

Holding = dict[int, tuple[str, dict]]


def _groups(session: Session, ids) -> dict[int, ChatGroup]:
    query = select(ChatGroup)
    if ids is not None:
        query = query.where(col(ChatGroup.id).in_(ids))
    return {g.id: g for g in session.exec(query)}


def silent(session: Session, rule: GroupAlertRule, ids, now: datetime, today: date, tz: str) -> Holding:
    d = GroupActivityDay
    query = select(d.group_id, func.max(d.last_message_at)).group_by(d.group_id)
    if ids is not None:
        query = query.where(col(d.group_id).in_(ids))
    last = {g: as_utc(t) for g, t in session.exec(query).all() if t is not None}
    cutoff = now - timedelta(days=rule.days)
    out = {}
    for gid, group in _groups(session, ids).items():
        since = last.get(gid) or as_utc(group.created_at)  # never a message: silent since it was created
        if since <= cutoff:
            quiet = (now - since).days
            said = format_local(since, "%m-%d %H:%M", tz) if gid in last else "从未"
            out[gid] = (f"已 {quiet} 天无消息（最后消息：{said}）",
                        {"last_message_at": since.isoformat() if gid in last else None, "members": group.member_count})
    return out


def low_speakers(session: Session, rule: GroupAlertRule, ids, now: datetime, today: date, tz: str) -> Holding:
    first, last = window(today, rule.days)
    s = GroupSpeakerDay
    query = (select(s.group_id, func.count(func.distinct(s.sender_id))).where(s.day >= first, s.day <= last)
             .group_by(s.group_id))
    if ids is not None:
        query = query.where(col(s.group_id).in_(ids))
    speakers = dict(session.exec(query).all())
    out = {}
    for gid, group in _groups(session, ids).items():
        if group.member_count <= 0:
            continue
        n = speakers.get(gid, 0)
        share = 100.0 * n / group.member_count
        if share < rule.threshold:
            out[gid] = (f"近 {rule.days} 天发言 {n} 人，占成员 {share:.1f}%（低于 {rule.threshold}%）",
                        {"speakers": n, "members": group.member_count, "share": round(share, 1)})
    return out


def churning(session: Session, rule: GroupAlertRule, ids, now: datetime, today: date, tz: str) -> Holding:
    first, last = window(today, rule.days)
    d = GroupActivityDay
    query = (select(d.group_id, func.sum(d.joins), func.sum(d.quits)).where(d.day >= first, d.day <= last)
             .group_by(d.group_id))
    if ids is not None:
        query = query.where(col(d.group_id).in_(ids))
    out = {}
    members = {g.id: g.member_count for g in _groups(session, ids).values()}
    for gid, joins, quits in session.exec(query).all():
        joins, quits = int(joins or 0), int(quits or 0)
        if quits > joins and gid in members:
            out[gid] = (f"近 {rule.days} 天退群 {quits} 人，入群 {joins} 人",
                        {"joins": joins, "quits": quits, "members": members[gid]})
    return out


CONDITIONS: dict[str, Callable[..., Holding]] = {"silent": silent, "low_speakers": low_speakers, "churning": churning}
