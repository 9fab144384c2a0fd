"""退款金额 (分): refunds made that day, credited like the order they belong to."""
from __future__ import annotations

from sqlmodel import select

from analytics.metrics.base import Fact, Metric, between
from commerce.orders.models import OrderRefund, SalesOrder
from config.clock import as_utc


class Refunds(Metric):
    key = "refund_fen"
    label = "退款金额"
    unit = "分"
    distinct = False
    money = True
    definition = "当天完成的退款金额合计（按原订单的业绩归属人、渠道、场景计）"

    def facts(self, session, start, end, ctx):
        stmt = (select(OrderRefund.order_id, OrderRefund.amount_fen, OrderRefund.created_at, SalesOrder.order_no,
                       SalesOrder.credited_user_id, SalesOrder.channel_id, SalesOrder.scene_id)
                .join(SalesOrder, SalesOrder.id == OrderRefund.order_id)
                .where(between(OrderRefund.created_at, start, end)))
        for order_id, amount, when, order_no, user_id, channel_id, scene_id in session.exec(stmt):
            yield Fact(as_utc(when), None, int(amount or 0), user_id=user_id, channel_id=channel_id,
                       scene_id=scene_id, ref=("order", order_id), label=order_no)


METRIC = Refunds()
