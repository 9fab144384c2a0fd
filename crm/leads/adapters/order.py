"""商城订单通知: a paid order from the e-commerce platform becomes a lead (已购用户).

Wire format (POST /webhooks/order_notifications, JSON):
  X-Shop-Timestamp: <unix seconds>
  X-Shop-Signature: base64(HMAC-SHA256(secret, "{timestamp}{raw body}"))   (no separator)
  {"type": "order.paid", "order": {"order_no", "buyer_name", "buyer_phone", "receiver_address",
   "items": [{"title", "sku", "quantity", "price"}], "total_amount"}}
Answer: {"code": 0, "msg": "success"}; errors {"code": <code>, "msg": "<原因>"}.

Other notification types (order.created, order.refunded …) are acknowledged and ignored: only a
paid order is a customer worth following up. The order number is the lead's external id, so the
platform's retries of one order make one lead. The lead's raw data is the order with `type`
beside it: buyer_name/buyer_phone/total_amount reach 姓名/手机号/线索价值 without rules.
"""
from __future__ import annotations

from typing import Optional

from crm.leads.adapters.base import (Answer, HeaderSignedAdapter, WebhookRefused, coded_error, json_answer,
                                     text_of)
from crm.leads.intake import Submission

PAID = "order.paid"


class OrderNotificationAdapter(HeaderSignedAdapter):
    key = "order_notifications"
    name = "商城订单通知"
    scene_types = ("ORDER_SYNC",)
    timestamp_header = "X-Shop-Timestamp"
    signature_header = "X-Shop-Signature"
    joiner = ""
    encoding = "base64"
    suggested_mapping = [
        {"source": "items.*.title", "target": "product", "transform": "join"},
        {"source": "receiver_address", "target": "receiver_address", "label": "收货地址"},
        {"source": "order_no", "target": "order_no", "label": "订单号"},
    ]

    def parse(self, body: bytes, headers) -> list:
        payload = self.payload(body)
        kind = text_of(payload.get("type"))
        if kind != PAID:
            return []
        order = payload.get("order")
        if not isinstance(order, dict) or not text_of(order.get("order_no")).strip():
            raise WebhookRefused("body", "订单通知缺少 order 或 order.order_no")
        if not isinstance(order.get("items", []), list):
            raise WebhookRefused("body", "order.items 应为数组")
        order_no = text_of(order["order_no"]).strip()
        raw = {**order, "type": kind, "order_no": order_no}
        return [Submission(raw=raw, external_id=order_no, source="webhook", meta={"platform": "shop"})]

    def ok_response(self, results: list) -> Answer:
        return json_answer(200, {"code": 0, "msg": "success"})

    def error_response(self, reason: str, message: str, status: Optional[int] = None) -> Answer:
        return coded_error(reason, message, status, "code", "msg")
