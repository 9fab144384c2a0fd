"""Loading one row of 社群增长 by an id typed in a form or a URL: an unknown or malformed id is the
part's 404 with a Chinese message, never a 500."""
from __future__ import annotations

from sqlmodel import Session

from community.errors import CommunityError, CommunityNotFound


def get_or_missing(session: Session, model, row_id, message: str):
    row = session.get(model, int(row_id)) if str(row_id).isdigit() and len(str(row_id)) < 19 else None
    if row is None:
        raise CommunityNotFound(message)
    return row


def whole_field(data: dict, name: str, label: str, low: int = 0, high: int = 10 ** 9, default: int = 0) -> int:
    """An integer form field within [low, high]; blank is `default`. CommunityError names the field."""
    raw = data.get(name)
    text = str(raw).strip() if raw not in (None, "") else str(default)
    try:
        value = int(text)
    except ValueError:
        raise CommunityError(f"{label}应为整数", {name: f"{label}应为整数"}) from None
    if not low <= value <= high:
        raise CommunityError(f"{label}超出范围", {name: f"{label}应在 {low}～{high} 之间"})
    return value
