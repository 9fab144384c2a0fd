"""成交单数: orders paid that day."""
from __future__ import annotations

from analytics.metrics.base import Metric
from analytics.metrics.orders_source import order_fact, paid_orders


class OrdersPaid(Metric):
    key = "orders_paid"
    label = "成交单数"
    unit = "单"
    distinct = False
    definition = "当天付款的订单数"

    def facts(self, session, start, end, ctx):
        for row in paid_orders(session, start, end):
            yield order_fact(row, None, 1, ("order", row[0]))


METRIC = OrdersPaid()
