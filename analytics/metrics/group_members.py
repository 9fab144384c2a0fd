"""The rows behind 入群 and 退群: group members by when they joined or left, with the group's account."""
from __future__ import annotations

from sqlmodel import select

from analytics.metrics.base import Fact, between, wx
from config.clock import as_utc
from devices.models import ChatGroup, ChatGroupMember


def member_facts(session, column, start, end, ctx, *, joins: bool = False):
    """`joins`: members a full sync first saw (joined_via_sync) were there before, not joining that day."""
    stmt = (select(ChatGroupMember.id, ChatGroupMember.wxid, ChatGroupMember.nickname, column,
                   ChatGroup.id, ChatGroup.account_id, ChatGroup.name)
            .join(ChatGroup, ChatGroup.id == ChatGroupMember.group_id)
            .where(between(column, start, end)))
    if joins:
        stmt = stmt.where(ChatGroupMember.joined_via_sync.is_(False))
    for mid, wxid, nickname, when, group_id, account_id, group_name in session.exec(stmt):
        yield Fact(as_utc(when), wx(wxid), user_id=ctx.owner(account_id), account_id=account_id, group_id=group_id,
                   ref=("member", mid), label=f"{nickname or wxid}（{group_name or '群'}）")
