"""Endpoints the per-request hooks leave alone.

POST /api/v1/events is called by machines at high rates, authenticates each request by its HMAC
signature (no session, no signed-in user, no bearer token), reads and checks its raw body itself,
and changes nothing the 操作日志 records (its events go to 事件历史). So loading a session user,
scanning form fields and opening an audit context would cost every request and do nothing.
What still runs for them: security headers, the error envelope, and the 异常日志 row of an
unexpected error (web.audit_hooks.handle_unexpected).
"""
from __future__ import annotations

from flask import request

LEAN = frozenset({"api_ingest.ingest_events"})


def is_lean() -> bool:
    return request.endpoint in LEAN
