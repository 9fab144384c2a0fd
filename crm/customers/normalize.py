"""How contact details are written down once, whichever form, file or API they came from:
mobile numbers as 11 plain digits (no +86, spaces, dashes or full-width digits), e-mail addresses
lower-case. Duplicates are found by comparing these normal forms."""
from __future__ import annotations

import re
import unicodedata
from typing import Optional

from config.pii import fold_digits

MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
_SEPARATORS = re.compile(r"[\s\-()（）]")


class BadContact(ValueError):
    """The Chinese reason a mobile number or e-mail address is refused."""


def normalize_mobile(raw) -> Optional[str]:
    """'+86 138-0013 8000', '８６13800138000', '13800138000.0' (Excel) → '13800138000'; '' → None."""
    if raw is None:
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    # NFKC misses digits of other scripts (١, १ …) that \d would still match: fold them all.
    text = fold_digits(unicodedata.normalize("NFKC", str(raw))).strip()
    if not text:
        return None
    text = _SEPARATORS.sub("", text)
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    if not MOBILE_RE.match(text):
        raise BadContact(f"手机号「{raw}」格式不正确（应为 11 位中国大陆手机号）")
    return text


def normalize_email(raw) -> Optional[str]:
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw)).strip().lower()
    if not text:
        return None
    if len(text) > 320 or not EMAIL_RE.match(text):
        raise BadContact(f"邮箱「{raw}」格式不正确")
    return text
