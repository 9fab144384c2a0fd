"""Data a database can store: the one check every door applies before anything is written.

JSON lets a sender write things no store accepts or no reader expects: a lone surrogate
("\\ud800", not a character at all — PostgreSQL refuses it, SQLite keeps it and every later
encode fails), NUL ("\\u0000", which PostgreSQL text and jsonb refuse), and NaN / Infinity
(Python's json reads them, and 1e999 becomes inf; no strict JSON reader takes them back).
Accepting such data with a 202 and failing later jams whatever handles it next, so every entry
point (events API, lead API, platform webhooks, phone reports, public forms, file imports) asks
`problems()` and refuses with the field named; `scrub()` makes a refused payload storable for
history and dead letters.
"""
from __future__ import annotations

import math
import re
from typing import Any

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def _reason(value: Any) -> str:
    """Why one scalar cannot be stored, or ""."""
    if isinstance(value, str):
        hit = _BAD_CHAR.search(value)
        if hit is None:
            return ""
        if hit.group() == "\x00":
            return "含有空字符（\\u0000）"
        return "含有无效的 Unicode 字符（孤立代理项）"
    if isinstance(value, float) and not math.isfinite(value):
        return "数值应为有限数（不接受 NaN / Infinity）"
    return ""


def _join(path: str, key) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def problems(value: Any, root: str = "", limit: int = 20) -> list[dict]:
    """Every unstorable key or value in nested JSON data, as [{"field", "code", "message"}] naming
    its path ("data.items[2].name"); walked without recursion (a hostile body must not blow the stack)."""
    found: list[dict] = []
    stack = [(root, value)]
    while stack and len(found) < limit:
        path, node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                why = _reason(key)
                where = _join(path, scrub(key) if why else key)  # scrub only what is dirty (hot path)
                if why:
                    found.append({"field": where, "code": "invalid_text", "message": f"字段名 {where} {why}"})
                stack.append((where, child))
        elif isinstance(node, list):
            stack.extend((_join(path, i), child) for i, child in enumerate(node))
        else:
            why = _reason(node)
            if why:
                code = "invalid_text" if isinstance(node, str) else "not_finite"
                found.append({"field": path or "body", "code": code, "message": f"{path or '请求体'} {why}"})
    return sorted(found, key=lambda p: p["field"])


def scrub(value: Any) -> Any:
    """The same data with bad characters replaced by U+FFFD and non-finite numbers by null — for
    storing what was refused (事件历史, dead letters), never for accepting it."""
    if isinstance(value, str):
        return _BAD_CHAR.sub(REPLACEMENT, value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {scrub(k) if isinstance(k, str) else k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value
