"""有效粉: a new friend who is worth having — counted on the day they were added when, within 7 days
(7×24 h) of being added, they and the same account exchanged at least one private message (they
wrote to us, or a message we sent them was delivered), and they did not delete us / were not
deleted within those 7 days. The value of a day settles 7 days later (the nightly recompute covers it)."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from analytics.metrics import sources
from analytics.metrics.base import Fact, Metric, between, wx
from config.clock import as_utc
from devices.models import Friend

WINDOW = timedelta(days=7)


class EffectiveFriends(Metric):
    key = "effective_friends"
    label = "有效粉"
    settle_days = 7
    definition = ("当天新增的好友中，加好友后 7×24 小时内与同一微信号有过私聊往来（对方发来消息或我方消息送达），"
                  "且这 7 天内未被删除的人数；有效粉占比 = 有效粉 ÷ 新增好友数")

    def facts(self, session, start, end, ctx):
        friends = list(session.exec(select(Friend.id, Friend.account_id, Friend.wxid, Friend.nickname,
                                           Friend.added_at, Friend.deleted_at)
                                    .where(between(Friend.added_at, start, end))))
        if not friends:
            return
        talks: dict[tuple, list] = {}
        for source in (sources.received, sources.sent):
            # the range itself (shared with 咨询/触达 through the cache), then the 7 days after it
            for m in sources.cached(ctx, source, session, start, end) + list(source(session, end, end + WINDOW)):
                if not m.chatroom_id:
                    talks.setdefault((m.account_id, m.wxid), []).append(m.when)
        for fid, account_id, wxid, nickname, added, deleted in friends:
            added = as_utc(added)
            if deleted is not None and as_utc(deleted) < added + WINDOW:
                continue
            if any(added <= t < added + WINDOW for t in talks.get((account_id, wxid), ())):
                yield Fact(added, wx(wxid), user_id=ctx.owner(account_id), account_id=account_id,
                           ref=("friend", fid), label=nickname or wxid)


METRIC = EffectiveFriends()
