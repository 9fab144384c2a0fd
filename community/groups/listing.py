"""社群列表: groups with their account, 群主 and 负责人 by name, members, today's and 7-day messages,
speakers, 潜水率, last message and tags — filtered by account, 负责人, 7-day activity range and tag,
paged. The page is chosen with one query over the day rollup (7 rows per group at most); the
per-group figures that need the speaker table are computed only for the groups on the page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Optional

from sqlalchemy import and_, func, literal, or_
from sqlmodel import Session, col, select

from community.activity.days import window
from community.activity.models import GroupActivityDay, GroupSpeakerDay
from community.groups.models import GroupTag
from community.groups.scope import groups_clause
from crm.people.models import User
from crm.scope import Viewer
from devices.models import ChatGroup, ChatGroupMember, WechatAccount

WINDOW_DAYS = 7
SORTS = {"messages": "近7天消息", "members": "成员数", "last": "最后消息", "name": "群名称"}


@dataclass
class GroupFilter:
    account_id: Optional[int] = None
    owner_user_id: Optional[int] = None
    tag: str = ""
    min_messages: Optional[int] = None  # 7-day messages, inclusive
    max_messages: Optional[int] = None
    q: str = ""
    sort: str = "messages"


def account_label(account: WechatAccount | None) -> str:
    if account is None:
        return "已删除的微信号"
    return account.nickname or account.alias or f"微信号 #{account.id}"


def _week(today: date):
    first, last = window(today, WINDOW_DAYS)
    d = GroupActivityDay
    return (select(d.group_id.label("gid"), func.sum(d.messages).label("week_messages"),
                   func.max(d.last_message_at).label("week_last"))
            .where(d.day >= first, d.day <= last).group_by(d.group_id).subquery())


def _query(viewer: Viewer, flt: GroupFilter, today: date, counting: bool = False):
    """The page's group ids, or (counting) the same rows; the 7-day join only when an activity
    filter or the sort needs it, so a count or a by-name page costs what a plain group list does."""
    week = _week(today)
    messages = func.coalesce(week.c.week_messages, literal(0))
    by_activity = flt.min_messages is not None or flt.max_messages is not None
    need_week = by_activity or (not counting and flt.sort in ("messages", "last"))
    query = select(ChatGroup.id).join(WechatAccount, WechatAccount.id == ChatGroup.account_id, isouter=True)
    if need_week:
        query = query.join(week, week.c.gid == ChatGroup.id, isouter=True)
    query = query.where(groups_clause(viewer))
    if flt.account_id:
        query = query.where(ChatGroup.account_id == flt.account_id)
    if flt.owner_user_id:
        query = query.where(WechatAccount.owner_user_id == flt.owner_user_id)
    if flt.tag:
        query = query.where(col(ChatGroup.id).in_(select(GroupTag.group_id).where(GroupTag.name == flt.tag)))
    if flt.q:
        query = query.where(col(ChatGroup.name).contains(flt.q))
    if flt.min_messages is not None:
        query = query.where(messages >= flt.min_messages)
    if flt.max_messages is not None:
        query = query.where(messages <= flt.max_messages)
    order = {"members": (col(ChatGroup.member_count).desc(),), "name": (col(ChatGroup.name),),
             "last": (func.coalesce(week.c.week_last, ChatGroup.created_at).desc(),)}.get(flt.sort, (messages.desc(),))
    return query if counting else query.order_by(*order, ChatGroup.id)


def list_groups(session: Session, viewer: Viewer, flt: GroupFilter, today: date, page: int = 1,
                size: int = 20) -> tuple[list[dict], int]:
    total = session.exec(select(func.count()).select_from(_query(viewer, flt, today, counting=True).subquery())).one()
    ids = list(session.exec(_query(viewer, flt, today).offset((page - 1) * size).limit(size)).all())
    return describe(session, ids, today), total


def describe(session: Session, ids: list[int], today: date) -> list[dict]:
    """The list's row for each group, in the order given."""
    if not ids:
        return []
    groups = {g.id: g for g in session.exec(select(ChatGroup).where(col(ChatGroup.id).in_(ids)))}
    accounts = {a.id: a for a in session.exec(select(WechatAccount).where(
        col(WechatAccount.id).in_({g.account_id for g in groups.values()})))}
    users = {u.id: u for u in session.exec(select(User).where(
        col(User.id).in_({a.owner_user_id for a in accounts.values() if a.owner_user_id})))}
    first, last = window(today, WINDOW_DAYS)
    d, s, m = GroupActivityDay, GroupSpeakerDay, ChatGroupMember
    week = {r[0]: r for r in session.exec(select(d.group_id, func.sum(d.messages), func.sum(d.joins), func.sum(d.quits))
                                          .where(col(d.group_id).in_(ids), d.day >= first, d.day <= last).group_by(d.group_id))}
    today_rows = {r.group_id: r for r in session.exec(select(d).where(col(d.group_id).in_(ids), d.day == today))}
    last_at = dict(session.exec(select(d.group_id, func.max(d.last_message_at)).where(col(d.group_id).in_(ids))
                                .group_by(d.group_id)).all())
    # Distinct speakers of the window, and which of them are members now (lurkers are the rest):
    # read for the page's groups only and matched here — a JOIN on the member table made SQLite
    # scan it.
    spoke: dict[int, set] = {}
    for gid, sender in session.exec(select(s.group_id, s.sender_id).where(
            col(s.group_id).in_(ids), s.day >= first, s.day <= last).distinct()).all():
        spoke.setdefault(gid, set()).add(sender)
    speakers = {gid: len(v) for gid, v in spoke.items()}
    spoken_members: dict[int, int] = {}
    for gid, wxid in session.exec(select(m.group_id, m.wxid).where(col(m.group_id).in_(list(spoke)),
                                                                      col(m.left_at).is_(None))).all():
        if wxid in spoke[gid]:
            spoken_members[gid] = spoken_members.get(gid, 0) + 1
    owners = _owner_names(session, groups.values(), accounts)
    tags: dict[int, list[str]] = {}
    for tag in session.exec(select(GroupTag).where(col(GroupTag.group_id).in_(ids)).order_by(GroupTag.name)):
        tags.setdefault(tag.group_id, []).append(tag.name)
    out = []
    for gid in ids:
        g = groups.get(gid)
        if g is None:
            continue
        account = accounts.get(g.account_id)
        user = users.get(account.owner_user_id) if account and account.owner_user_id else None
        members = g.member_count
        lurkers = max(0, members - spoken_members.get(gid, 0))
        w = week.get(gid)
        t = today_rows.get(gid)
        out.append({
            "id": g.id, "name": g.name or "未命名群", "account_id": g.account_id, "account": account_label(account),
            "group_owner": owners.get(gid, ""), "owner_user_id": account.owner_user_id if account else None,
            "owner": (user.display_name or user.username) if user else "未分配",
            "members": members, "today_messages": t.messages if t else 0, "today_speakers": t.speakers if t else 0,
            "today_joins": t.joins if t else 0, "today_quits": t.quits if t else 0,
            "week_messages": int(w[1] or 0) if w else 0, "week_joins": int(w[2] or 0) if w else 0,
            "week_quits": int(w[3] or 0) if w else 0, "week_speakers": speakers.get(gid, 0),
            "lurker_rate": round(100.0 * lurkers / members, 1) if members else None,
            "last_message_at": last_at.get(gid), "tags": tags.get(gid, []),
        })
    return out


def _owner_names(session: Session, groups, accounts: dict) -> dict[int, str]:
    """群主 by name: the account itself when it owns the group, else the owner's group nickname."""
    out, wanted = {}, {}
    for g in groups:
        account = accounts.get(g.account_id)
        if not g.owner_wxid:
            out[g.id] = "未知"
        elif account is not None and g.owner_wxid == account.wxid:
            out[g.id] = account_label(account) + "（本号）"
        else:
            wanted[(g.id, g.owner_wxid)] = g.id
    if wanted:
        rows = session.exec(select(ChatGroupMember.group_id, ChatGroupMember.wxid, ChatGroupMember.nickname).where(
            or_(*[and_(ChatGroupMember.group_id == gid, ChatGroupMember.wxid == wxid) for gid, wxid in wanted]))).all()
        for gid, _wxid, nickname in rows:
            out[gid] = nickname or "群主（未同步昵称）"
        for gid, _wxid in wanted:
            out.setdefault(gid, "群主（未同步昵称）")
    return out
