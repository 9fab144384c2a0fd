"""消息触达人数: distinct people our accounts sent a private message to that was delivered."""
from __future__ import annotations

from analytics.metrics import sources
from analytics.metrics.base import Fact, Metric, wx


class Reached(Metric):
    key = "reached"
    label = "消息触达人数"
    definition = "我方微信号当天私聊发出且送达的对象人数（去重；群发到群不计）"

    def facts(self, session, start, end, ctx):
        for m in sources.cached(ctx, sources.sent, session, start, end):
            yield Fact(m.when, wx(m.wxid), user_id=ctx.owner(m.account_id), account_id=m.account_id,
                       ref=("command", m.row_id), label=m.wxid)


METRIC = Reached()
