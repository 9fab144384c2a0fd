"""Errors of the platform integrations. `CallbackRefused` is a forged, replayed or undecryptable
callback (answered 403 and counted); `PlatformError` is an error answer from Tencent's API
(errcode/errmsg kept) or an unreachable server."""
from __future__ import annotations

from crm.errors import CrmError, NotFound


class IntegrationError(CrmError):
    """Bad settings or input (422)."""


class IntegrationNotFound(NotFound):
    pass


class CallbackRefused(IntegrationError):
    status = 403

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason  # stable key: bad_signature, stale_timestamp, bad_padding, wrong_receiver, replay, malformed


class PlatformError(IntegrationError):
    status = 502

    def __init__(self, message: str, errcode: int | None = None):
        super().__init__(message)
        self.errcode = errcode
