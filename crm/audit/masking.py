"""What of a changed value may be written to the log: phones and e-mails masked as everywhere
else (config.pii), and secrets never — password hashes, tokens, keys, sealed columns (their plain
text is a contact the operator chose to seal) and blind indexes (they reveal equal values)."""
from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal

from config.pii import mask_text
from config.pii_column import SealedText

REDACTED = "（已隐藏）"
MAX_TEXT = 500
_SENSITIVE_PARTS = {"password", "passwd", "secret", "token", "sealed", "credential", "credentials", "hash", "bidx",
                    "cookie", "signature", "otp"}
_SENSITIVE_NAMES = {"aes_key", "encoding_aes_key", "callback_key", "api_key", "private_key", "secret_key"}


def sensitive_name(name: str) -> bool:
    """A column or JSON key whose value must never be logged. Times and flags about a secret
    (`access_token_expires_at`, `must_change_password`) are not the secret."""
    lowered = name.lower()
    if lowered.endswith("_at") or lowered.startswith(("must_", "is_", "has_")):
        return False
    return lowered in _SENSITIVE_NAMES or bool(_SENSITIVE_PARTS & set(lowered.split("_")))


def sensitive_column(column) -> bool:
    return sensitive_name(column.key) or isinstance(column.type, SealedText)


def loggable(value, depth: int = 0):
    """A JSON-storable, masked, size-bounded copy of a column value."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        text = mask_text(value)
        return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return loggable(value.value, depth)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} 字节>"
    if depth >= 4:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())[:50]
        return {str(k): (REDACTED if sensitive_name(str(k)) else loggable(v, depth + 1)) for k, v in items}
    if isinstance(value, (list, tuple, set)):
        return [loggable(v, depth + 1) for v in list(value)[:50]]
    return loggable(str(value), depth)


def column_value(column, value):
    return REDACTED if value is not None and sensitive_column(column) else loggable(value)
