"""咨询人数: distinct people who wrote a private message to one of our accounts that day."""
from __future__ import annotations

from analytics.metrics import sources
from analytics.metrics.base import Fact, Metric, wx


class Consulted(Metric):
    key = "consulted"
    label = "咨询人数"
    definition = "当天主动私聊我方微信号的人数（去重；群消息不计）"

    def facts(self, session, start, end, ctx):
        for m in sources.cached(ctx, sources.received, session, start, end):
            if not m.chatroom_id:
                yield Fact(m.when, wx(m.wxid), user_id=ctx.owner(m.account_id), account_id=m.account_id,
                           ref=("event", m.row_id), label=m.wxid)


METRIC = Consulted()
