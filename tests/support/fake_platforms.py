"""Fake platforms that push to /webhooks/<key> the way the real ones do: each builds its own
payload, signs it with its own code (not the adapter's), and posts it over the Flask test client
or real HTTP.

    douyin = FakeDouyin(secret, clock)
    call = douyin.lead("7301", name="张三", telephone="13800138000")
    call.post(client)                 # or call.post_http(live_server.url)
    call.post(client)                 # the same bytes again: a replay
    douyin.lead("7301", ...).post(client)   # re-signed with a new nonce: a platform retry

`clock` is the app's clock (ManualClock in tests), so timestamps agree with the server's.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Optional
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests


@dataclass(frozen=True)
class Delivery:
    """One signed HTTP request, ready to be sent (and re-sent byte for byte)."""

    path: str
    headers: dict
    body: bytes
    content_type: str = "application/json"

    def post(self, client):
        return client.post(self.path, data=self.body, headers=self.headers, content_type=self.content_type)

    def post_http(self, base_url: str, **kwargs) -> requests.Response:
        return requests.post(base_url + self.path, data=self.body, timeout=10,
                             headers={**self.headers, "Content-Type": self.content_type}, **kwargs)

    def tampered(self, body: bytes) -> "Delivery":
        """The same headers (signature) over another body: what a forger can do."""
        return replace(self, body=body)

    def with_header(self, name: str, value: str) -> "Delivery":
        return replace(self, headers={**self.headers, name: value})


def _hmac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def _json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class FakePlatform(ABC):
    adapter_key = ""

    def __init__(self, secret: str, clock, scene_key: Optional[str] = None, skew_seconds: int = 0):
        self.secret = secret
        self.clock = clock
        self.scene_key = scene_key
        self.skew_seconds = skew_seconds  # a platform whose clock is off (stale timestamps)

    @property
    def path(self) -> str:
        return f"/webhooks/{self.adapter_key}" + (f"?scene={self.scene_key}" if self.scene_key else "")

    def timestamp(self) -> int:
        return int((self.clock.now() + timedelta(seconds=self.skew_seconds)).timestamp())

    def send(self, payload: dict) -> Delivery:
        body = _json(payload)
        return Delivery(self.path, self.sign(body, str(self.timestamp())), body)

    @abstractmethod
    def sign(self, body: bytes, ts: str) -> dict:
        """The headers (or form fields) this platform signs a delivery with."""


class FakeDouyin(FakePlatform):
    """抖音 线索推送 (clues from ad forms) and comment push."""

    adapter_key = "douyin_leads"

    def sign(self, body: bytes, ts: str) -> dict:
        nonce = secrets.token_hex(8)
        signature = _hmac(self.secret, f"{ts}\n{nonce}\n".encode() + body).hex()
        return {"X-Douyin-Timestamp": ts, "X-Douyin-Nonce": nonce, "X-Douyin-Signature": signature}

    def lead(self, clue_id: str, **content) -> Delivery:
        fields = {"name": "张三", "telephone": "13800138000", "province": "广东", "city": "深圳",
                  "ad_id": "1790000000001", "ad_name": "春季体验课", "advertiser_id": "1700000000000",
                  "douyin_user_id": "MS4wLjABAAAA_fake", "remark": "", "create_time": self.timestamp()}
        return self.send({"event": "lead", "clue_id": clue_id, "content": {**fields, **content}})

    def comment(self, comment_id: str, text: str, **content) -> Delivery:
        fields = {"douyin_user_id": "MS4wLjABAAAA_commenter", "nickname": "小鹿", "comment": text,
                  "video_id": "7300000000000000001", "video_title": "三分钟学会插花", "create_time": self.timestamp()}
        return self.send({"event": "comment", "comment_id": comment_id, "content": {**fields, **content}})


class FakeShop(FakePlatform):
    """商城 order notification."""

    adapter_key = "order_notifications"

    def sign(self, body: bytes, ts: str) -> dict:
        return {"X-Shop-Timestamp": ts,
                "X-Shop-Signature": base64.b64encode(_hmac(self.secret, ts.encode() + body)).decode()}

    def paid_order(self, order_no: str, total: float = 399.0, **order) -> Delivery:
        fields = {"order_no": order_no, "buyer_name": "李四", "buyer_phone": "13900139000",
                  "receiver_address": "上海市浦东新区世纪大道 100 号",
                  "items": [{"title": "精华液", "sku": "SKU-001", "quantity": 1, "price": total}],
                  "total_amount": total}
        return self.send({"type": "order.paid", "order": {**fields, **order}})


class FakeCti(FakePlatform):
    """电话系统 call events."""

    adapter_key = "cti_calls"

    def sign(self, body: bytes, ts: str) -> dict:
        return {"X-CTI-Timestamp": ts, "X-CTI-Signature": _hmac(self.secret, f"{ts}.".encode() + body).hex()}

    def call_started(self, call_id: str, caller: str = "13700137000", **extra) -> Delivery:
        return self.send({"event": "call_started", "call_id": call_id, "caller": caller, "callee": "4008001234",
                          "agent": "坐席01", "started_at": "2026-11-20T10:00:00+08:00", **extra})

    def call_ended(self, call_id: str, caller: str = "13700137000", summary: str = "咨询产品A价格",
                   intent: str = "高", duration: int = 185, **extra) -> Delivery:
        return self.send({"event": "call_ended", "call_id": call_id, "caller": caller, "callee": "4008001234",
                          "agent": "坐席01", "started_at": "2026-11-20T10:00:00+08:00",
                          "ended_at": "2026-11-20T10:03:05+08:00", "duration": duration, "summary": summary,
                          "intent": intent, **extra})


class FakeFormTool(FakePlatform):
    """A website / form tool pushing submissions in the guide's shape."""

    adapter_key = "web_form"

    def sign(self, body: bytes, ts: str) -> dict:
        return {"X-Form-Timestamp": ts,
                "X-Form-Signature": "sha256=" + _hmac(self.secret, f"{ts}.".encode() + body).hex()}

    def submission(self, submission_id: str, form_id: str = "contact_us_form_v1", **data) -> Delivery:
        fields = {"name": "王五", "email": "WangWu@Example.com", "phone": "13600136000", "company": "某某公司",
                  "message": "对产品A感兴趣，希望了解详情。"}
        return self.send({"form_id": form_id, "submission_id": submission_id, "submission_data": {**fields, **data},
                          "meta": {"ip_address": "192.168.1.100", "user_agent": "Mozilla/5.0",
                                   "submission_url": "https://example.com/contact"}})


class FakeWechatPay(FakePlatform):
    """微信支付 v3 style payment notification (HMAC instead of RSA, plaintext resource)."""

    adapter_key = "wechat_pay"

    def sign(self, body: bytes, ts: str) -> dict:
        nonce = secrets.token_hex(16)
        signature = base64.b64encode(_hmac(self.secret, f"{ts}\n{nonce}\n".encode() + body + b"\n")).decode()
        return {"Wechatpay-Timestamp": ts, "Wechatpay-Nonce": nonce, "Wechatpay-Serial": "5157F09EFDC096DE15EBE81A47057A72",
                "Wechatpay-Signature": signature}

    def paid(self, token: str, transaction_id: str, total_fen: int = 9900, openid: str = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
             event_type: str = "TRANSACTION.SUCCESS", success_time: str = "2026-11-20T10:00:00+08:00") -> Delivery:
        return self.send({"id": "EV-" + transaction_id, "create_time": "2026-11-20T10:00:00+08:00",
                          "event_type": event_type, "resource_type": "encrypt-resource",
                          "resource": {"out_trade_no": "OUT" + transaction_id, "transaction_id": transaction_id,
                                       "trade_state": "SUCCESS", "amount": {"total": total_fen, "currency": "CNY"},
                                       "payer": {"openid": openid}, "attach": token,
                                       "success_time": success_time}})


class FakeAlipay(FakePlatform):
    """支付宝 asynchronous notification (form-encoded; HMAC-SHA256 instead of RSA2)."""

    adapter_key = "alipay"
    ZONE = ZoneInfo("Asia/Shanghai")

    def notify_time(self) -> str:
        return (self.clock.now() + timedelta(seconds=self.skew_seconds)).astimezone(self.ZONE).strftime("%Y-%m-%d %H:%M:%S")

    def sign(self, body: bytes, ts: str) -> dict:
        """Alipay signs the sorted form content (the time travels inside it as notify_time)."""
        return {"sign": base64.b64encode(_hmac(self.secret, body)).decode()}

    def send_form(self, params: dict) -> Delivery:
        params = {"notify_time": self.notify_time(), **params, "sign_type": "HMAC-SHA256",
                  "notify_id": secrets.token_hex(12)}
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items())
                           if k not in ("sign", "sign_type") and v != "")
        params.update(self.sign(content.encode(), params["notify_time"]))
        return Delivery(self.path, {}, urlencode(params).encode(), "application/x-www-form-urlencoded; charset=utf-8")

    def paid(self, token: str, trade_no: str, total_amount: str = "88.00", buyer_id: str = "2088102177846880",
             trade_status: str = "TRADE_SUCCESS", gmt_payment: str = "") -> Delivery:
        return self.send_form({"app_id": "2021000000000000", "out_trade_no": "OUT" + trade_no, "trade_no": trade_no,
                               "total_amount": total_amount, "buyer_id": buyer_id, "passback_params": token,
                               "trade_status": trade_status, "subject": "付款码收款", "gmt_payment": gmt_payment})
