"""HTTP 短信网关: POST {"mobile", "content"} as JSON with a bearer token to settings.sms_gateway_url.

The request goes through the SSRF guard like any processor's (a gateway on the intranet must
be allow-listed) and carries the step's Idempotency-Key, so a gateway that honours it never
texts twice. 5xx, 429 and timeouts are retried; other 4xx are final.
"""
from __future__ import annotations

import json

from handlers.builtin.http_response import raise_for_status
from handlers.errors import PermanentError
from handlers.net_guard import fetch
from handlers.sms_providers.base import SmsProvider, SmsSendResult

_RESPONSE_CHARS = 2000


class HttpGatewayProvider(SmsProvider):
    key = "http_gateway"
    name = "HTTP 短信网关"

    def send(self, services, mobile: str, content: str, idempotency_key: str) -> SmsSendResult:
        settings = services.settings
        if not settings.sms_gateway_url:
            raise PermanentError("未配置短信网关地址（CKB_SMS_GATEWAY_URL）")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": idempotency_key}
        if settings.sms_gateway_token:
            headers["Authorization"] = f"Bearer {settings.sms_gateway_token}"
        body = json.dumps({"mobile": mobile, "content": content}, ensure_ascii=False).encode("utf-8")
        shown = {"method": "POST", "url": settings.sms_gateway_url, "body": {"content": content}}
        result = fetch(settings, "POST", settings.sms_gateway_url, headers=headers, body=body)
        raise_for_status(result, shown, services.now())
        return SmsSendResult(status="sent",
                             provider_response=result.body.decode("utf-8", "replace")[:_RESPONSE_CHARS])
