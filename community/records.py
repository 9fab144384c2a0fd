"""Loading one row of 社群增长 by an id typed in a form or a URL: an unknown or malformed id is the
part's 404 with a Chinese message, never a 500."""
from __future__ import annotations

from sqlmodel import Session

from community.errors import CommunityNotFound


def get_or_missing(session: Session, model, row_id, message: str):
    row = session.get(model, int(row_id)) if str(row_id).isdigit() and len(str(row_id)) < 19 else None
    if row is None:
        raise CommunityNotFound(message)
    return row
