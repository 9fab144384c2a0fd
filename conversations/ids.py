"""Ids typed into forms, query strings and JSON bodies: a positive 64-bit integer or nothing, so an
id of another type, a negative one or one past BIGINT reads as "not found" / a named field error,
never a 500 from the database driver."""
from __future__ import annotations

from typing import Optional

from conversations.errors import ConversationError

MAX_IDS = 500


def object_id(raw) -> Optional[int]:
    """The id in `raw`, or None when it is not a usable id."""
    try:
        key = int(raw)
    except (TypeError, ValueError):
        return None
    return key if 0 < key < 2 ** 63 else None


def id_list(raw, field: str, label: str) -> list[int]:
    """Distinct ids of a list (or one value); ConversationError naming `field` otherwise."""
    if raw in (None, "", []):
        return []
    items = raw if isinstance(raw, list) else [raw]
    out = [object_id(v) if not isinstance(v, bool) else None for v in items]
    if any(v is None for v in out):
        raise ConversationError(f"{label}有误", {field: f"{label}应为编号"})
    if len(out) > MAX_IDS:
        raise ConversationError(f"{label}最多 {MAX_IDS} 个", {field: f"{label}最多 {MAX_IDS} 个"})
    return list(dict.fromkeys(out))
