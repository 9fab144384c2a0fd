"""好友/群同步: the phone's full friend and group lists, applied as sets.

Friends and members present are inserted or updated, ones missing from a complete list are
marked deleted/left (never removed: history and CRM links stay). A list sent in pages
(`complete: false`) only adds and updates.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert
from sqlmodel import Session, select

from devices.models import ChatGroup, ChatGroupMember, Friend, WechatAccount


def _s(value, limit: int) -> str:
    return str(value or "")[:limit]


def _tags(value) -> list:
    return [str(t)[:50] for t in value[:50]] if isinstance(value, list) else []


def upsert_friend(session: Session, account_id: int, item: dict, now: datetime, existing: Friend | None = None) -> Friend:
    friend = existing
    if friend is None:
        friend = session.exec(select(Friend).where(Friend.account_id == account_id, Friend.wxid == _s(item.get("wxid"), 64))).first()
    if friend is None:
        friend = Friend(account_id=account_id, wxid=_s(item.get("wxid"), 64), added_at=now)
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
        if existing[wxid].deleted_at is not None:
            added += 1
        upsert_friend(session, account.id, item, now, existing[wxid])
    if fresh:
        session.execute(insert(Friend), fresh)
        added += len(fresh)
    if complete:
        for wxid, friend in existing.items():
            if wxid not in items and friend.deleted_at is None:
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


def apply_members(session: Session, group: ChatGroup, members: list, joined: bool, now: datetime, complete: bool = False) -> list[dict]:
    """Members joined (or left); returns the members that actually changed, as [{wxid, nickname}]."""
    items = {_s(m.get("wxid"), 64): m for m in members if isinstance(m, dict) and m.get("wxid")}
    existing = {m.wxid: m for m in session.exec(select(ChatGroupMember).where(ChatGroupMember.group_id == group.id))}
    changed = []
    fresh = []
    for wxid, item in items.items():
        row = existing.get(wxid)
        if joined:
            if row is None:
                fresh.append({"group_id": group.id, "wxid": wxid, "nickname": _s(item.get("nickname"), 100), "joined_at": now})
                changed.append({"wxid": wxid, "nickname": _s(item.get("nickname"), 100)})
                continue
            elif row.left_at is not None:
                row.left_at, row.joined_at = None, now
                changed.append({"wxid": wxid, "nickname": _s(item.get("nickname"), 100)})
            if item.get("nickname"):
                row.nickname = _s(item.get("nickname"), 100)
            session.add(row)
        elif row is not None and row.left_at is None:
            row.left_at = now
            session.add(row)
            changed.append({"wxid": wxid, "nickname": row.nickname or _s(item.get("nickname"), 100)})
    if fresh:
        session.execute(insert(ChatGroupMember), fresh)
    if complete:
        for wxid, row in existing.items():
            if wxid not in items and row.left_at is None:
                row.left_at = now
                session.add(row)
    session.flush()
    group.member_count = session.exec(select(func.count()).select_from(ChatGroupMember).where(
        ChatGroupMember.group_id == group.id, ChatGroupMember.left_at.is_(None))).one()
    session.add(group)
    return changed


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
