"""支付宝 异步通知 for 付款码获客: someone paid through one of our payment codes.

Wire format (POST /webhooks/alipay, application/x-www-form-urlencoded), in Alipay's style:
  out_trade_no, trade_no, total_amount (元, "88.00"), buyer_id, passback_params (= payment code
  token), trade_status (TRADE_SUCCESS / TRADE_FINISHED / WAIT_BUYER_PAY / TRADE_CLOSED),
  notify_time and gmt_payment ("YYYY-MM-DD HH:MM:SS", Beijing time), sign_type=HMAC-SHA256, sign
  sign = base64(HMAC-SHA256(secret, "&".join(f"{k}={v}" for k, v in sorted(params)
                                              if k not in ("sign", "sign_type") and v != "")))
  (values URL-decoded, keys in byte order, empty values left out: Alipay's 待签名字符串)
Answer: text/plain "success"; anything refused "failure" with a 4xx status.

Differences from the real platform, on purpose: Alipay signs with RSA2 (its public key verifies);
here the scene's secret signs with HMAC-SHA256. notify_time is checked against the ±300 s window
and the signature is remembered, so a captured notification cannot be replayed.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Optional
from urllib.parse import parse_qsl

from crm.leads.adapters.base import (STATUS, WINDOW_SECONDS, Answer, PaymentAdapter, SignatureInfo, WebhookRefused,
                                     b64, check_window, digest_of, mac, same, text_of)

# Alipay writes its times in Beijing time whatever our zone: UTC+8, no daylight saving since 1991.
PLATFORM_ZONE = timezone(timedelta(hours=8), "UTC+08:00")
PAID_STATUSES = ("TRADE_SUCCESS", "TRADE_FINISHED")
SIGN_TYPE = "HMAC-SHA256"


def _platform_time(params: dict[str, str], name: str) -> Optional[datetime]:
    """An Alipay time parameter (Beijing time) as aware UTC; None when absent, refused when malformed."""
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=PLATFORM_ZONE).astimezone(timezone.utc)
    except ValueError:
        raise WebhookRefused("body", f"{name} 格式错误（应为 YYYY-MM-DD HH:MM:SS）") from None


def form_params(body: bytes) -> dict[str, str]:
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200))
    except (UnicodeDecodeError, ValueError):
        raise WebhookRefused("body", "请求体不是合法的表单（application/x-www-form-urlencoded, UTF-8）") from None


def sign_content(params: dict[str, str]) -> str:
    return "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k not in ("sign", "sign_type") and v != "")


class AlipayAdapter(PaymentAdapter):
    key = "alipay"
    name = "支付宝异步通知"
    scene_types = ("PAYMENT_CODE",)

    def verify(self, headers, body: bytes, secret: str, now, window: int = WINDOW_SECONDS) -> SignatureInfo:
        params = form_params(body)
        signature = params.get("sign", "").strip()
        if not signature:
            raise WebhookRefused("signature", "缺少 sign 参数")
        if params.get("sign_type", "") != SIGN_TYPE:
            raise WebhookRefused("signature", f"不支持的 sign_type：应为 {SIGN_TYPE}")
        if not same(b64(mac(secret, sign_content(params).encode())), signature):
            raise WebhookRefused("signature", "签名校验失败：sign 与通知参数不符")
        try:
            signed_at = datetime.strptime(params.get("notify_time", ""), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise WebhookRefused("timestamp", "notify_time 缺失或格式错误（应为 YYYY-MM-DD HH:MM:SS）") from None
        timestamp = int(signed_at.replace(tzinfo=PLATFORM_ZONE).timestamp())
        return SignatureInfo(check_window(timestamp, now, window), digest_of(signature))

    def token_of(self, body: bytes) -> str:
        try:
            return form_params(body).get("passback_params", "").strip()
        except WebhookRefused:
            return ""

    def paid(self, body: bytes, headers) -> Optional[dict]:
        params = form_params(body)
        if params.get("trade_status") not in PAID_STATUSES:
            return None
        trade_no = params.get("trade_no", "").strip()
        if not trade_no:
            raise WebhookRefused("body", "支付通知缺少 trade_no")
        try:
            amount = round(float(params.get("total_amount", "")), 2)
        except ValueError:
            raise WebhookRefused("body", "total_amount 应为金额（元）") from None
        if not math.isfinite(amount) or amount < 0:
            raise WebhookRefused("body", "total_amount 应为不小于 0 的金额（元）")
        raw = {k: v for k, v in params.items() if k not in ("sign", "sign_type")}
        return {"token": params.get("passback_params", "").strip(), "trade_no": trade_no, "amount_yuan": amount,
                "payer": text_of(params.get("buyer_id")), "mobile": None, "paid_at": _platform_time(params, "gmt_payment"),
                "raw": raw}

    def ok_response(self, results: list) -> Answer:
        return Answer(200, "success", "text/plain; charset=utf-8")

    def error_response(self, reason: str, message: str, status: Optional[int] = None) -> Answer:
        return Answer(status or STATUS.get(reason, 400), "failure", "text/plain; charset=utf-8")
