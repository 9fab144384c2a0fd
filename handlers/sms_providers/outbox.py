"""发件箱通道: nothing leaves the server; the SMS processor's row is the whole delivery.

Operators read these rows in 短信发件箱 — the default, so a fresh install never texts real
customers by accident.
"""
from __future__ import annotations

from handlers.sms_providers.base import SmsProvider, SmsSendResult


class OutboxProvider(SmsProvider):
    key = "outbox"
    name = "短信发件箱（不实际发送）"

    def send(self, services, mobile: str, content: str, idempotency_key: str) -> SmsSendResult:
        return SmsSendResult(status="outbox", provider_response="已记录到短信发件箱，未实际发送")
