"""短信发件箱: the messages the built-in SMS and e-mail processors recorded, newest first."""
from __future__ import annotations

from sqlmodel import Session, func, select

from handlers.models import MailMessage, SmsMessage

OUTBOXES = {"sms": SmsMessage, "mail": MailMessage}


def list_outbox(session: Session, kind: str, page: int, per_page: int) -> tuple[list, int, dict]:
    """(rows of one outbox, its total, totals of every outbox for the tab badges)."""
    model = OUTBOXES[kind]
    rows = session.exec(select(model).order_by(model.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    counts = {key: session.exec(select(func.count()).select_from(m)).one() for key, m in OUTBOXES.items()}
    return list(rows), counts[kind], counts
