"""好友/群同步: the phone's full friend and group lists, applied as sets.

Friends and members present are inserted or updated, ones missing from a complete list are
marked deleted/left (never removed: history and CRM links stay). A list sent in pages
(`complete: false`) only adds and updates.

Times are the phone's (when it happened), and reports arrive out of order: a friend's state
began at `friend_changed_at` (added_at, or deleted_at once deleted; a member's likewise), and a
report or list taken before that does not change it — a late "deleted" never removes a friend
added after it, a late list never revives someone who left after it was taken.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert
from sqlmodel import Session, select

from config.clock import as_utc
from devices.models import ChatGroup, ChatGroupMember, Friend, WechatAccount


def _s(value, limit: int) -> str:
    return str(value or "")[:limit]


def _tags(value) -> list:
    return [str(t)[:50] for t in value[:50]] if isinstance(value, list) else []


def friend_changed_at(friend: Friend) -> datetime:
    """When the friend's present state (friends, or deleted) began."""
    return as_utc(friend.deleted_at or friend.added_at)


def member_changed_at(member: ChatGroupMember) -> datetime:
    """When the member's present state (in the group, or left) began."""
    return as_utc(member.left_at or member.joined_at)


def find_friend(session: Session, account_id: int, wxid) -> Friend | None:
    return session.exec(select(Friend).where(Friend.account_id == account_id, Friend.wxid == _s(wxid, 64))).first()


def upsert_friend(session: Session, account_id: int, item: dict, now: datetime, existing: Friend | None = None) -> Friend:
    """Adds or updates a friend as of `now` (the caller checked `friend_changed_at` first)."""
    friend = existing or find_friend(session, account_id, item.get("wxid"))
    if friend is None:
        friend = Friend(account_id=account_id, wxid=_s(item.get("wxid"), 64), added_at=now)
    elif friend.deleted_at is not None:
        friend.added_at = now  # friends again: the friendship starts now
    for key, limit in (("nickname", 100), ("remark", 100), ("mobile", 32), ("source", 32)):
        if key in item:
            setattr(friend, key, _s(item.get(key), limit))
    if "tags" in item:
        friend.tags = _tags(item.get("tags"))
    friend.deleted_at = None
    session.add(friend)
    return friend


def sync_friends(session: Session, account: WechatAccount, friends: list, complete: bool, now: datetime) -> dict:
    items = {_s(f.get("wxid"), 64): f for f in friends if isinstance(f, dict) and f.get("wxid")}
    existing = {f.wxid: f for f in session.exec(select(Friend).where(Friend.account_id == account.id))}
    added = removed = 0
    fresh = []
    for wxid, item in items.items():
        if wxid not in existing:
            # New friends in one executemany: a phone's first sync brings hundreds at once.
            fresh.append({"account_id": account.id, "wxid": wxid, "nickname": _s(item.get("nickname"), 100),
                          "remark": _s(item.get("remark"), 100), "mobile": _s(item.get("mobile"), 32),
                          "source": _s(item.get("source"), 32), "tags": _tags(item.get("tags")), "added_at": now})
            continue
        friend = existing[wxid]
        if friend.deleted_at is not None:
            if as_utc(friend.deleted_at) > now:
                continue  # deleted after this list was taken
            added += 1
        upsert_friend(session, account.id, item, now, friend)
    if fresh:
        session.execute(insert(Friend), fresh)
        added += len(fresh)
    if complete:
        for wxid, friend in existing.items():
            if wxid not in items and friend.deleted_at is None and as_utc(friend.added_at) <= now:
                friend.deleted_at = now
                session.add(friend)
                removed += 1
    session.flush()
    live = [f for f in existing.values() if f.deleted_at is None and f.wxid not in items]
    account.friends_count = len(items) + len(live)
    session.add(account)
    return {"friends": len(items), "added": added, "removed": removed}


def upsert_group(session: Session, account_id: int, chatroom_id: str, name: str | None = None) -> ChatGroup:
    group = session.exec(select(ChatGroup).where(ChatGroup.account_id == account_id,
                                                 ChatGroup.chatroom_id == chatroom_id)).first()
    if group is None:
        group = ChatGroup(account_id=account_id, chatroom_id=chatroom_id[:64])
    if name:
        group.name = _s(name, 100)
    session.add(group)
    session.flush()
    return group


def apply_members(session: Session, group: ChatGroup, members: list, joined: bool, now: datetime,
                  complete: bool = False) -> tuple[list[dict], list[dict]]:
    """Members joined (or left) at `now`; returns (members that changed, members a later join or
    leave already decided — left as they are), each as [{wxid, nickname}]."""
    items = {_s(m.get("wxid"), 64): m for m in members if isinstance(m, dict) and m.get("wxid")}
    existing = {m.wxid: m for m in session.exec(select(ChatGroupMember).where(ChatGroupMember.group_id == group.id))}
    changed, late, fresh = [], [], []
    for wxid, item in items.items():
        row = existing.get(wxid)
        who = {"wxid": wxid, "nickname": _s(item.get("nickname"), 100) or (row.nickname if row else "")}
        if row is not None and member_changed_at(row) > now:
            late.append(who)
            continue
        if row is None:
            # A leave for someone never seen is kept too: a join that happened before it and
            # arrives later must not add them.
            fresh.append({"group_id": group.id, "wxid": wxid, "nickname": who["nickname"], "joined_at": now,
                          "left_at": None if joined else now, "joined_via_sync": complete})
            if joined:
                changed.append(who)
            continue
        if joined:
            if row.left_at is not None:
                row.left_at, row.joined_at, row.joined_via_sync = None, now, complete
                changed.append(who)
            if item.get("nickname"):
                row.nickname = _s(item.get("nickname"), 100)
            session.add(row)
        elif row.left_at is None:
            row.left_at = now
            session.add(row)
            changed.append(who)
    if fresh:
        session.execute(insert(ChatGroupMember), fresh)
    if complete:
        for wxid, row in existing.items():
            if wxid not in items and row.left_at is None and as_utc(row.joined_at) <= now:
                row.left_at = now
                session.add(row)
    session.flush()
    group.member_count = session.exec(select(func.count()).select_from(ChatGroupMember).where(
        ChatGroupMember.group_id == group.id, ChatGroupMember.left_at.is_(None))).one()
    session.add(group)
    return changed, late


def sync_groups(session: Session, account: WechatAccount, groups: list, complete: bool, now: datetime) -> dict:
    seen = set()
    for item in groups:
        if not isinstance(item, dict) or not item.get("chatroom_id"):
            continue
        group = upsert_group(session, account.id, _s(item["chatroom_id"], 64), item.get("name"))
        if "owner_wxid" in item:
            group.owner_wxid = _s(item.get("owner_wxid"), 64)
        if "announcement" in item:
            group.announcement = _s(item.get("announcement"), 2000)
        if isinstance(item.get("members"), list):
            apply_members(session, group, item["members"], True, now, complete=True)
        seen.add(group.chatroom_id)
    total = session.exec(select(ChatGroup).where(ChatGroup.account_id == account.id)).all()
    # A group the phone no longer lists is one the account left; it stays for history.
    account.groups_count = len(seen) if complete else len(total)
    session.add(account)
    session.flush()
    return {"groups": len(seen)}
