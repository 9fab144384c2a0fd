"""新增好友数: people who became a friend of one of our accounts that day (wechat_friend.added_at)."""
from __future__ import annotations

from sqlmodel import select

from analytics.metrics.base import Fact, Metric, between, wx
from config.clock import as_utc
from devices.models import Friend


class NewFriends(Metric):
    key = "new_friends"
    label = "新增好友数"
    definition = "当天新加为我方微信号好友的人数（同一人加了多个微信号只计一次）"

    def facts(self, session, start, end, ctx):
        stmt = (select(Friend.id, Friend.account_id, Friend.wxid, Friend.nickname, Friend.added_at)
                .where(between(Friend.added_at, start, end)))
        for fid, account_id, wxid, nickname, added in session.exec(stmt):
            yield Fact(as_utc(added), wx(wxid), user_id=ctx.owner(account_id), account_id=account_id,
                       ref=("friend", fid), label=nickname or wxid)


METRIC = NewFriends()
