"""短信发件箱: the messages the built-in SMS and e-mail processors recorded, newest first,
filterable by status, number / address and period."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlmodel import Session, func, select

from config.pii import fold_digits
from handlers.models import MailMessage, SmsMessage

OUTBOXES = {"sms": SmsMessage, "mail": MailMessage}
STATUSES = {"sent": "已发送", "outbox": "仅记录（未外发）", "failed": "失败"}
EXPORT_LIMIT = 50_000


@dataclass
class OutboxFilter:
    status: str = ""
    number: str = ""  # part of the mobile number (SMS) or the address (mail)
    since: Optional[datetime] = None  # aware UTC, inclusive
    until: Optional[datetime] = None  # aware UTC, exclusive


def outbox_query(kind: str, f: OutboxFilter):
    model = OUTBOXES[kind]
    stmt = select(model)
    if f.status:
        stmt = stmt.where(model.status == f.status)
    number = fold_digits(f.number).strip().replace(" ", "").replace("-", "")
    if number:
        column = model.mobile if kind == "sms" else model.to
        stmt = stmt.where(column.contains(number, autoescape=True))
    if f.since is not None:
        stmt = stmt.where(model.created_at >= f.since)
    if f.until is not None:
        stmt = stmt.where(model.created_at < f.until)
    return stmt.order_by(model.id.desc())


def list_outbox(session: Session, kind: str, page: int, per_page: int,
                f: Optional[OutboxFilter] = None) -> tuple[list, int, dict]:
    """(rows of one outbox matching `f`, their total, totals of every outbox for the tab badges)."""
    stmt = outbox_query(kind, f or OutboxFilter())
    rows = session.exec(stmt.offset((page - 1) * per_page).limit(per_page)).all()
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    counts = {key: session.exec(select(func.count()).select_from(m)).one() for key, m in OUTBOXES.items()}
    return list(rows), total, counts


def export_outbox(session: Session, kind: str, f: OutboxFilter) -> list:
    return list(session.exec(outbox_query(kind, f).limit(EXPORT_LIMIT)).all())
