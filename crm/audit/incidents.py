"""异常日志: an unhandled error of a request, stored under the reference id the user is shown, so
an operator quoting 参考编号 leads an admin straight to the stack."""
from __future__ import annotations

import secrets
import traceback
from datetime import datetime
from typing import Optional

from config.db import Database
from config.pii import mask_text
from crm.audit.models import ErrorLog


def new_reference(now: datetime) -> str:
    """Short enough to read over the phone, unique enough never to collide in a day's errors."""
    return f"E{now:%y%m%d}-{secrets.token_hex(4).upper()}"


def record_error(db: Database, exc: BaseException, *, reference: str, now: datetime, method: str = "",
                 endpoint: str = "", path: str = "", ip: str = "", user_id: Optional[int] = None,
                 username: str = "") -> None:
    """Written in its own transaction: the request's own write has already been rolled back.
    Messages and stacks are masked (an exception often quotes the value that broke it)."""
    stack = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    with db.write() as session:
        session.add(ErrorLog(reference=reference, created_at=now, method=method[:8], endpoint=(endpoint or "")[:200],
                             path=path[:500], user_id=user_id, username=username[:100], ip=ip[:64],
                             exc_type=f"{type(exc).__module__}.{type(exc).__qualname__}"[:200],
                             message=mask_text(str(exc))[:2000], stack=mask_text(stack)[-60000:]))
