"""成交金额 (分): the paid amount of the orders paid that day; refunds count on their own day (退款金额)."""
from __future__ import annotations

from analytics.metrics.base import Metric
from analytics.metrics.orders_source import order_fact, paid_orders


class Gmv(Metric):
    key = "gmv_fen"
    label = "成交金额"
    unit = "分"
    distinct = False
    money = True
    definition = "当天付款订单的实付金额合计（退款在退款当天另计为退款金额，不冲减成交金额）"

    def facts(self, session, start, end, ctx):
        for row in paid_orders(session, start, end):
            yield order_fact(row, None, int(row[6] or 0), ("order", row[0]))


METRIC = Gmv()
