"""One group's activity over time: the daily trend and the top speakers of a window."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from community.activity.days import window
from community.activity.models import GroupActivityDay, GroupSpeakerDay
from devices.models import ChatGroupMember


def trend(session: Session, group_id: int, today: date, days: int = 30) -> list[dict]:
    """Every day of the window (days without a row are zeros), oldest first."""
    first, last = window(today, days)
    rows = {r.day: r for r in session.exec(select(GroupActivityDay).where(
        GroupActivityDay.group_id == group_id, GroupActivityDay.day >= first, GroupActivityDay.day <= last))}
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        r = rows.get(day)
        out.append({"day": day.isoformat(), "messages": r.messages if r else 0, "speakers": r.speakers if r else 0,
                    "joins": r.joins if r else 0, "quits": r.quits if r else 0, "members": r.members if r else None})
    return out


def top_speakers(session: Session, group_id: int, today: date, days: int = 7, limit: int = 10) -> list[dict]:
    first, last = window(today, days)
    s = GroupSpeakerDay
    rows = session.exec(select(s.sender_id, func.max(s.sender_name), func.sum(s.messages).label("n"))
                        .where(s.group_id == group_id, s.day >= first, s.day <= last)
                        .group_by(s.sender_id).order_by(func.sum(s.messages).desc(), s.sender_id).limit(limit)).all()
    nick = dict(session.exec(select(ChatGroupMember.wxid, ChatGroupMember.nickname).where(
        ChatGroupMember.group_id == group_id, ChatGroupMember.wxid.in_([r[0] for r in rows]))).all()) if rows else {}
    return [{"name": nick.get(sender) or name or "群成员", "messages": int(n)} for sender, name, n in rows]
