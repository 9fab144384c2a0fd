"""活跃好友: friends of our accounts who sent a message (private or in a group the account is in) that day."""
from __future__ import annotations

from sqlalchemy import tuple_
from sqlmodel import select

from analytics.metrics import sources
from analytics.metrics.base import Fact, Metric, wx
from devices.models import Friend

CHUNK = 400  # pairs per query (two bound parameters each)


class ActiveFriends(Metric):
    key = "active_friends"
    label = "活跃好友"
    definition = "当天发过消息（私聊或在我方微信号所在群内）的好友人数，须是该微信号的好友（去重）"

    def facts(self, session, start, end, ctx):
        messages = sources.cached(ctx, sources.received, session, start, end)
        if not messages:
            return
        # Look up only the (account, sender) pairs seen, by the unique (account_id, wxid) index:
        # loading every friend of the accounts that got a message would read the whole friend table.
        pairs = sorted({(m.account_id, m.wxid) for m in messages})
        friends = {}
        for i in range(0, len(pairs), CHUNK):
            friends.update({(a, w): fid for fid, a, w in session.exec(
                select(Friend.id, Friend.account_id, Friend.wxid).where(
                    tuple_(Friend.account_id, Friend.wxid).in_(pairs[i:i + CHUNK])))})
        for m in messages:
            fid = friends.get((m.account_id, m.wxid))
            if fid is not None:
                yield Fact(m.when, wx(m.wxid), user_id=ctx.owner(m.account_id), account_id=m.account_id,
                           ref=("friend", fid), label=m.wxid)


METRIC = ActiveFriends()
