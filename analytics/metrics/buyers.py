"""成交人数: distinct customers with an order paid that day."""
from __future__ import annotations

from analytics.metrics.base import Metric
from analytics.metrics.orders_source import order_fact, paid_orders


class Buyers(Metric):
    key = "buyers"
    label = "成交人数"
    definition = "当天有订单付款的客户人数（去重；之后退款不改变当天的成交人数）"

    def facts(self, session, start, end, ctx):
        for row in paid_orders(session, start, end):
            yield order_fact(row, f"c:{row[2]}", 1, ("customer", row[2]))


METRIC = Buyers()
