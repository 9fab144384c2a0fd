"""What every platform webhook (抖音线索推送, 订单通知, 电话系统, 表单, 微信支付, 支付宝) has in common.

An adapter knows one platform's wire format: how it signs a call (HMAC-SHA256 with the scene's
secret, a timestamp that must be within ±300 s), what its payload looks like, and how it wants
to be answered. It never decides what a lead is: it turns the payload into Submissions and the
scene's mapping rules do the rest, exactly as for the ingestion API.

`key` is part of the URL the platform is configured with (/webhooks/<key>) and is stored in
rejection counts: rename classes freely, never keys.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, NamedTuple, Optional

from sqlmodel import select

from crm.leads import intake, payments
from crm.leads.errors import LeadsError
from crm.leads.models import PaymentCode
from events.body import json_depth
from events.safe_json import problems

WINDOW_SECONDS = 300  # used when the caller passes no window (the web layer passes the setting)
MAX_JSON_DEPTH = 32

# Why a call was refused (WebhookRejection.reason; labels in crm.leads.stats.REJECTION_REASONS)
# and the HTTP status each reason is answered with.
STATUS = {"signature": 401, "timestamp": 401, "replay": 409, "scene": 404, "rate_limit": 429, "body": 400}
# Numeric codes for platforms whose answers carry one (抖音 err_no, 商城 code).
ERROR_CODES = {"signature": 40001, "timestamp": 40002, "replay": 40003, "scene": 40004, "body": 40005,
               "rate_limit": 42900}


class WebhookRefused(Exception):
    """A call that is answered with the platform's error format (and counted)."""

    def __init__(self, reason: str, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.status = status or STATUS.get(reason, 400)
        self.scene_id: Optional[int] = None  # set once the call's scene is known (for the count)


@dataclass(frozen=True)
class SignatureInfo:
    timestamp: int  # epoch seconds the platform signed
    digest: str  # sha256 of the signature: the same digest twice inside the window is a replay


class Answer(NamedTuple):
    """(status, body, content_type): unpacks like the tuple the web layer sends back."""

    status: int
    body: str
    content_type: str


def header_map(headers) -> dict[str, str]:
    """Case-insensitive view of request headers (a dict in unit tests, werkzeug Headers in Flask)."""
    return {str(k).lower(): str(v) for k, v in headers.items()}


def required_header(headers: dict[str, str], name: str) -> str:
    value = headers.get(name.lower(), "").strip()
    if not value:
        raise WebhookRefused("signature", f"缺少请求头 {name}")
    return value


def epoch(now) -> float:
    return now.timestamp() if isinstance(now, datetime) else float(now)


def check_window(timestamp: int, now, window: int) -> int:
    if abs(epoch(now) - timestamp) > window:
        raise WebhookRefused("timestamp", f"时间戳与服务器时间相差超过 {window} 秒（可能是重放或时钟不同步）")
    return timestamp


def parse_timestamp(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise WebhookRefused("timestamp", f"{name} 应为 Unix 秒数") from None


def mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def digest_of(signature: str) -> str:
    return hashlib.sha256(signature.encode()).hexdigest()


def same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())


def load_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> dict:
    """The body as a JSON object, or a `body` refusal (nesting is checked without recursion)."""
    try:
        payload = json.loads(body)
    except RecursionError:
        raise WebhookRefused("body", f"JSON 嵌套超过 {max_depth} 层") from None
    except (ValueError, UnicodeDecodeError):
        raise WebhookRefused("body", "请求体不是合法的 JSON") from None
    if json_depth(payload) > max_depth:
        raise WebhookRefused("body", f"JSON 嵌套超过 {max_depth} 层")
    if not isinstance(payload, dict):
        raise WebhookRefused("body", "请求体应为 JSON 对象")
    return payload


def json_answer(status: int, payload: dict) -> Answer:
    return Answer(status, json.dumps(payload, ensure_ascii=False), "application/json; charset=utf-8")


def coded_error(reason: str, message: str, status: Optional[int], code_key: str, message_key: str) -> Answer:
    """An error answer carrying a numeric code (抖音 err_no/err_tips, 商城 code/msg)."""
    return json_answer(status or STATUS.get(reason, 400), {code_key: ERROR_CODES.get(reason, 40000),
                                                           message_key: message})


def text_of(value) -> str:
    return "" if value is None else str(value)


class WebhookAdapter(ABC):
    key: str = ""
    name: str = ""
    scene_types: tuple[str, ...] = ()
    # Mapping rules the scene editor may pre-fill; fields with the usual names need none.
    suggested_mapping: list[dict] = []

    @abstractmethod
    def verify(self, headers, body: bytes, secret: str, now, window: int = WINDOW_SECONDS) -> SignatureInfo:
        """Checks signature and timestamp; raises WebhookRefused (signature | timestamp | body)."""

    @abstractmethod
    def parse(self, body: bytes, headers) -> list:
        """The payload as Submissions (crm.leads.intake.Submission); raises WebhookRefused("body")."""

    @abstractmethod
    def ok_response(self, results: list) -> Answer:
        """The success answer, once the delivery is stored (or dead-lettered)."""

    @abstractmethod
    def error_response(self, reason: str, message: str, status: Optional[int] = None) -> Answer:
        """The platform's own error format for a refused call."""

    def scene_hint(self, session, body: bytes, headers) -> Optional[int]:
        """A scene id read from the (not yet verified) payload, when the platform names one;
        only used to pick whose secret to verify with."""
        return None

    def deliver(self, db, scene, body: bytes, headers, tz: str, now: Optional[datetime] = None) -> list:
        """Stores the delivery as leads; submissions the scene refuses become dead letters."""
        submissions = self.parse(body, headers)
        results = intake.submit(db, scene.id, submissions, tz, now) if submissions else []
        refused = [(s, r) for s, r in zip(submissions, results) if isinstance(r, Exception)]
        if refused:
            with db.write() as session:
                for submission, error in refused:
                    intake.dead_letter(session, scene.id, "webhook", submission, error.message,
                                       error.errors)
        return results


class HeaderSignedAdapter(WebhookAdapter):
    """Platforms that sign a JSON body with a timestamp header (and maybe a nonce header).

    A subclass declares its style: the signed bytes are timestamp, nonce (when the platform
    sends one) and the raw body joined by `joiner`, then `suffix`; the header holds `prefix`
    and the MAC in hex or base64."""

    timestamp_header: str = ""
    signature_header: str = ""
    nonce_header: str = ""
    joiner: str = "."
    suffix: str = ""
    encoding: str = "hex"  # hex | base64
    prefix: str = ""

    def signed_message(self, timestamp: str, headers: dict[str, str], body: bytes) -> bytes:
        parts = [timestamp] + ([required_header(headers, self.nonce_header)] if self.nonce_header else [])
        return "".join(p + self.joiner for p in parts).encode() + body + self.suffix.encode()

    def encode(self, raw_mac: bytes) -> str:
        return self.prefix + (b64(raw_mac) if self.encoding == "base64" else raw_mac.hex())

    def verify(self, headers, body: bytes, secret: str, now, window: int = WINDOW_SECONDS) -> SignatureInfo:
        found = header_map(headers)
        ts_text = required_header(found, self.timestamp_header)
        signature = required_header(found, self.signature_header)
        expected = self.encode(mac(secret, self.signed_message(ts_text, found, body)))
        # The signature first: a stale but authentic call is a clock problem, a bad one a forgery.
        if not same(expected, signature):
            raise WebhookRefused("signature", f"签名校验失败：{self.signature_header} 与请求体不符")
        timestamp = check_window(parse_timestamp(ts_text, self.timestamp_header), now, window)
        return SignatureInfo(timestamp, digest_of(signature))

    def payload(self, body: bytes) -> dict:
        return load_json(body)


class PaymentAdapter(WebhookAdapter):
    """Payment callbacks do not make leads themselves: crm.leads.payments.record_payment turns a
    paid order into a lead or a deal of an existing customer (idempotent on the trade number)."""

    @abstractmethod
    def paid(self, body: bytes, headers) -> Optional[dict]:
        """record_payment's arguments (token, trade_no, amount_yuan, payer, mobile, raw) for a
        successful payment; None for notifications that need no action (closed, refunded …)."""

    @abstractmethod
    def token_of(self, body: bytes) -> str:
        """The payment code's token as written in the (unverified) body, or ""."""

    def parse(self, body: bytes, headers) -> list:
        paid = self.paid(body, headers)
        return [] if paid is None else [intake.Submission(raw=paid["raw"], external_id=paid["trade_no"], source="webhook")]

    def scene_hint(self, session, body: bytes, headers) -> Optional[int]:
        token = self.token_of(body)
        if not token:
            return None
        return session.exec(select(PaymentCode.scene_id).where(PaymentCode.token == token)).first()

    def deliver(self, db, scene, body: bytes, headers, tz: str, now: Optional[datetime] = None) -> list:
        paid = self.paid(body, headers)
        if paid is None:
            return []
        with db.read() as session:
            owner = self.scene_hint(session, body, headers)
        try:
            if owner is not None and owner != scene.id:
                raise LeadsError("付款码不属于该获客场景", {"token": "付款码不属于该获客场景"})
            unstorable = problems(paid)  # a payment record is written before intake sees the lead
            if unstorable:
                raise LeadsError("支付通知数据有误：" + "；".join(p["message"] for p in unstorable),
                                 {p["field"]: p["message"] for p in unstorable})
            return [payments.record_payment(db, provider=self.key, tz=tz, **paid)]
        except LeadsError as exc:
            submission = intake.Submission(raw=paid["raw"], external_id=paid["trade_no"], source="webhook")
            with db.write() as session:
                intake.dead_letter(session, scene.id, "webhook", submission, exc.message, exc.errors)
            return [exc]


def count_accepted(results: Iterable) -> int:
    return sum(1 for r in results if not isinstance(r, Exception))
