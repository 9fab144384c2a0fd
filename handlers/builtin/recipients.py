"""Recipient lists as marketers type them: "a@x.com, b@x.com", "alice，bob、carol", or a list."""
from __future__ import annotations

import re

# ASCII and full-width commas/semicolons, the Chinese enumeration comma, and whitespace.
_SEPARATORS_RE = re.compile(r"[,;，；、\s]+")


def split_recipients(value) -> list[str]:
    """Distinct non-empty entries, in the order given."""
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        for entry in _SEPARATORS_RE.split(str(item or "")):
            if entry and entry not in found:
                found.append(entry)
    return found
