"""HMAC-SHA256 request signing: X-Signature: sha256=<hex HMAC(secret, "{timestamp}.{raw body}")>."""
from __future__ import annotations

import hashlib
import hmac

from events.errors import IngestError


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_timestamp(header: str | None, now_epoch: float, tolerance: int) -> int:
    if not header:
        raise IngestError(401, "missing_timestamp", "缺少 X-Timestamp 请求头")
    try:
        ts = int(header)
    except ValueError:
        raise IngestError(401, "bad_timestamp", "X-Timestamp 应为 Unix 秒数") from None
    if abs(now_epoch - ts) > tolerance:
        raise IngestError(401, "stale_timestamp", f"X-Timestamp 与服务器时间相差超过 {tolerance} 秒（可能是重放或时钟不同步）")
    return ts


def check_signature(secrets: list[str], timestamp: int, header: str | None, body: bytes) -> None:
    if not header:
        raise IngestError(401, "missing_signature", "缺少 X-Signature 请求头")
    for secret in secrets:
        if hmac.compare_digest(sign(secret, timestamp, body), header.strip()):
            return
    raise IngestError(401, "bad_signature", "签名校验失败：X-Signature 与请求体不符")
