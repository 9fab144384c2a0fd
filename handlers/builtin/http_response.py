"""How an HTTP answer becomes history or an error the engine understands.

Shared by the HTTP processor, the user-registered HTTP processors and the SMS gateway
provider, so that "5xx retries, 429 waits as told, other 4xx gives up" means the same
thing everywhere, and secrets in headers never reach the history viewer.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Optional

from handlers.errors import PermanentError, RetryableError
from handlers.net_guard import FetchResult

# A header or query parameter whose name contains one of these words is shown as *** in history.
SECRET_HEADER_WORDS = ("authorization", "cookie", "token", "secret", "password", "passwd",
                       "api-key", "apikey", "signature", "session")
KEPT_RESPONSE_HEADERS = ("content-type", "content-length", "retry-after", "location",
                         "x-request-id", "date")
# History keeps a few KB of each body: enough to debug, small enough for the ledger.
HISTORY_BODY_CHARS = 4096
MASK = "***"


def is_secret_name(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_HEADER_WORDS)


def redact_headers(headers: dict) -> dict:
    return {name: (MASK if is_secret_name(name) else value) for name, value in headers.items()}


def parse_retry_after(value: Optional[str], now: datetime) -> Optional[float]:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _body_for_history(result: FetchResult):
    text = result.body.decode("utf-8", errors="replace")
    if len(text) <= HISTORY_BODY_CHARS and not result.truncated:
        try:
            return json.loads(text), False
        except ValueError:
            return text, False
    return text[:HISTORY_BODY_CHARS], True


def summarize_response(result: FetchResult) -> dict:
    body, shortened = _body_for_history(result)
    summary = {
        "status": result.status,
        "headers": {k: v for k, v in result.headers.items() if k.lower() in KEPT_RESPONSE_HEADERS},
        "body": body,
    }
    if shortened:
        summary["body_shortened"] = True  # only the history copy is cut
    if result.truncated:
        summary["truncated"] = True  # the server sent more than the configured cap
    if len(result.hops) > 1:
        summary["redirects"] = result.hops[1:]
    return summary


def raise_for_status(result: FetchResult, request: dict, now: datetime) -> dict:
    """The response summary for 2xx; RetryableError / PermanentError otherwise."""
    response = summarize_response(result)
    status = result.status
    if 200 <= status < 300:
        return response
    if status == 429:
        wait = parse_retry_after(result.headers.get("Retry-After"), now)
        hint = f"，{wait:g} 秒后重试" if wait is not None else ""
        raise RetryableError(f"对方限流（HTTP 429）{hint}", retry_after=wait,
                             request=request, response=response)
    if status >= 500 or status == 408:
        raise RetryableError(f"对方服务暂时不可用（HTTP {status}）", request=request,
                             response=response,
                             retry_after=parse_retry_after(result.headers.get("Retry-After"), now))
    raise PermanentError(f"对方拒绝了请求（HTTP {status}），重试无效", request=request,
                         response=response)
