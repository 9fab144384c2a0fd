"""Whose groups a person sees: every group with 群活监控规则与群发 (community.manage) or 查看与接手全部
会话; otherwise (a 业务员) the groups of the WeChat accounts assigned to them
(WechatAccount.owner_user_id). Another person's group answers "not found", like an unknown id."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import false, true
from sqlmodel import Session, col, select

from community.errors import CommunityNotFound
from crm.scope import Viewer
from devices.models import ChatGroup, WechatAccount


def sees_all(viewer: Viewer) -> bool:
    return viewer.has("community.manage") or viewer.has("conversations.view_all")


def groups_clause(viewer: Viewer):
    if sees_all(viewer):
        return true()
    if viewer.user_id is None:
        return false()
    return col(ChatGroup.account_id).in_(select(WechatAccount.id).where(WechatAccount.owner_user_id == viewer.user_id))


def load_group(session: Session, viewer: Viewer, group_id) -> ChatGroup:
    try:
        key = int(group_id)
    except (TypeError, ValueError):
        key = None
    row = None
    if key is not None and -2 ** 63 <= key < 2 ** 63:
        row = session.exec(select(ChatGroup).where(ChatGroup.id == key).where(groups_clause(viewer))).first()
    if row is None:
        raise CommunityNotFound(f"群 {group_id} 不存在或无权查看")
    return row


def visible_group_ids(session: Session, viewer: Viewer, ids: Iterable[int]) -> set[int]:
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return set()
    return set(session.exec(select(ChatGroup.id).where(col(ChatGroup.id).in_(wanted)).where(groups_clause(viewer))).all())
