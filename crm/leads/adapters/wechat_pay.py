"""微信支付 支付结果通知 for 付款码获客: someone paid through one of our payment codes.

Wire format (POST /webhooks/wechat_pay, JSON), in the style of WeChat Pay API v3:
  Wechatpay-Timestamp: <unix seconds>
  Wechatpay-Nonce:     <random string>
  Wechatpay-Serial:    <platform certificate serial> (informative, not checked)
  Wechatpay-Signature: base64(HMAC-SHA256(secret, "{timestamp}\\n{nonce}\\n{raw body}\\n"))
  {"id": "<notification id>", "event_type": "TRANSACTION.SUCCESS",
   "resource": {"out_trade_no", "transaction_id", "trade_state": "SUCCESS", "amount": {"total": <分>},
                "payer": {"openid"}, "attach": "<payment code token>", "success_time"}}
Answer: 200 {"code": "SUCCESS", "message": "成功"}; errors 4xx {"code": "FAIL", "message": "<原因>"}.

Differences from the real platform, on purpose: the signature is an HMAC with the scene's secret
(WeChat signs with its RSA platform key) and `resource` is plaintext (WeChat encrypts it with
AEAD_AES_256_GCM under the APIv3 key). A deployment facing real WeChat Pay puts a small relay in
front that checks the RSA signature, decrypts the resource and re-signs in this format.
"""
from __future__ import annotations

from typing import Optional

from config.clock import parse_iso_instant
from crm.leads.adapters.base import (STATUS, Answer, HeaderSignedAdapter, PaymentAdapter, WebhookRefused,
                                     json_answer, load_json, text_of)

SUCCESS_EVENT = "TRANSACTION.SUCCESS"


class WechatPayAdapter(PaymentAdapter, HeaderSignedAdapter):
    key = "wechat_pay"
    name = "微信支付结果通知"
    scene_types = ("PAYMENT_CODE",)
    timestamp_header = "Wechatpay-Timestamp"
    signature_header = "Wechatpay-Signature"
    nonce_header = "Wechatpay-Nonce"
    joiner = suffix = "\n"
    encoding = "base64"

    def token_of(self, body: bytes) -> str:
        try:
            resource = load_json(body).get("resource")
        except WebhookRefused:
            return ""
        return text_of(resource.get("attach")).strip() if isinstance(resource, dict) else ""

    def paid(self, body: bytes, headers) -> Optional[dict]:
        payload = load_json(body)
        resource = payload.get("resource")
        if payload.get("event_type") != SUCCESS_EVENT:
            return None
        if not isinstance(resource, dict):
            _missing("resource")
        if resource.get("trade_state", "SUCCESS") != "SUCCESS":
            return None
        trade_no = text_of(resource.get("transaction_id")).strip() or _missing("resource.transaction_id")
        amount = resource.get("amount") if isinstance(resource.get("amount"), dict) else {}
        total = amount.get("total")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            _missing("resource.amount.total（整数，单位分）")
        payer = resource.get("payer") if isinstance(resource.get("payer"), dict) else {}
        # When the payer paid (RFC 3339 with offset), not when the notification reached us.
        paid_at = parse_iso_instant(text_of(resource.get("success_time")).strip())
        if resource.get("success_time") not in (None, "") and paid_at is None:
            _missing("resource.success_time（RFC 3339 时间，如 2026-12-07T14:50:00+08:00）")
        return {"token": text_of(resource.get("attach")).strip(), "trade_no": trade_no,
                "amount_yuan": round(total / 100, 2), "payer": text_of(payer.get("openid")),
                "mobile": None, "paid_at": paid_at, "raw": {**resource, "notification_id": text_of(payload.get("id"))}}

    def ok_response(self, results: list) -> Answer:
        return json_answer(200, {"code": "SUCCESS", "message": "成功"})

    def error_response(self, reason: str, message: str, status: Optional[int] = None) -> Answer:
        return json_answer(status or STATUS.get(reason, 400), {"code": "FAIL", "message": message})


def _missing(field: str):
    raise WebhookRefused("body", f"支付通知缺少或错误的字段：{field}")
