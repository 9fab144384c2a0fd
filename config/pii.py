"""Masking of personal data (mobile numbers, e-mail addresses) in logs and lists."""
from __future__ import annotations

import re

# Chinese mobile numbers, optionally with +86 / 86 prefix; 11 digits starting with 1[3-9], also
# as people type them into forms and platforms send them ("+86 138-0013-8000").
MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?(1[3-9]\d)[-\s]?(\d{4})[-\s]?(\d{4})(?!\d)")
EMAIL_RE = re.compile(r"([A-Za-z0-9._%+-])([A-Za-z0-9._%+-]*)(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


# Full-width digits and plus (１３８…, ＋８６) are the same number; the rest of the text is kept.
_HALF_WIDTH = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"＋": "+"})


def mask_mobile(value: str) -> str:
    if not value.isascii():
        value = value.translate(_HALF_WIDTH)
    return MOBILE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", value)


def mask_email(value: str) -> str:
    return EMAIL_RE.sub(lambda m: f"{m.group(1)}***{m.group(3)}", value)


def mask_text(value: str) -> str:
    """Masks every mobile number and e-mail address found in free text."""
    return mask_email(mask_mobile(value))


def mask_value(value):
    """Masks strings inside nested JSON-like data, leaving structure and other types alone."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(v) for v in value]
    return value
