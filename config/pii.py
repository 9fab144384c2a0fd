"""Masking of personal data (mobile numbers, e-mail addresses) in logs and lists."""
from __future__ import annotations

import re
import unicodedata

# Chinese mobile numbers, optionally with +86 / 86 prefix; 11 digits starting with 1[3-9], also
# as people type them into forms and platforms send them ("+86 138-0013-8000").
MOBILE_RE = re.compile(r"(?<![0-9])(?:\+?86[-\s]?)?(1[3-9][0-9])[-\s]?([0-9]{4})[-\s]?([0-9]{4})(?![0-9])")
EMAIL_RE = re.compile(r"([A-Za-z0-9._%+-])([A-Za-z0-9._%+-]*)(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")


class _DigitFold(dict):
    """str.translate table, filled on first sight of each character: every Unicode decimal digit
    (full-width １, mathematical 𝟏 / 𝟭, Arabic-Indic ١, Devanagari १ …) becomes its ASCII digit,
    and characters whose NFKC form is one digit, plus or dash (①, ＋, －) become that; anything
    else maps to itself. One character in, one out, so positions in the text do not move."""

    def __missing__(self, code: int):
        char = chr(code)
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            folded = str(digit)
        else:
            nfkc = unicodedata.normalize("NFKC", char)
            folded = nfkc if len(nfkc) == 1 and nfkc in "0123456789+-" else char
        self[code] = folded
        return folded


_FOLD = _DigitFold()


def fold_digits(value: str) -> str:
    """The text with every Unicode digit form folded to ASCII (and ＋/－ to +/-), the rest kept:
    whoever detects, masks or normalises a phone number reads it through this first."""
    return value if value.isascii() else value.translate(_FOLD)


def mask_mobile(value: str) -> str:
    return MOBILE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", fold_digits(value))


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
