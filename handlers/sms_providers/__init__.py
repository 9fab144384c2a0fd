"""短信通道: where the SMS processor hands its messages.

`outbox` (default) only records them in the console's 短信发件箱 — safe for trials and demos;
`http_gateway` posts them to a generic SMS gateway. settings.sms_provider picks one.
"""
from __future__ import annotations

from handlers.errors import PermanentError
from handlers.sms_providers.base import SmsProvider, SmsSendResult
from handlers.sms_providers.http_gateway import HttpGatewayProvider
from handlers.sms_providers.outbox import OutboxProvider

PROVIDERS: dict[str, type[SmsProvider]] = {
    OutboxProvider.key: OutboxProvider,
    HttpGatewayProvider.key: HttpGatewayProvider,
    "http": HttpGatewayProvider,  # the spelling used in config/settings.py's comment
}


def get_provider(settings) -> SmsProvider:
    name = (settings.sms_provider or OutboxProvider.key).strip().lower()
    try:
        return PROVIDERS[name]()
    except KeyError:
        raise PermanentError(f"未知的短信通道「{name}」，可选：outbox、http_gateway") from None


__all__ = ["PROVIDERS", "SmsProvider", "SmsSendResult", "get_provider"]
