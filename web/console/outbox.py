"""短信发件箱: every SMS (and e-mail) the built-in processors sent or, with the outbox provider,
would have sent — masked for users without 查看完整手机号."""
from __future__ import annotations

from flask import Blueprint, render_template, request
from sqlmodel import func, select

from handlers.models import MailMessage, SmsMessage
from web.auth.guards import permission_required
from web.console.forms_common import PER_PAGE, page_arg, pages, read

bp = Blueprint("outbox", __name__)
TABS = {"sms": SmsMessage, "mail": MailMessage}


def _page(session, model, page: int) -> tuple[list, int, dict]:
    # No outbox service exists in handlers/: a plain newest-first listing is all this page needs.
    total = session.exec(select(func.count()).select_from(model)).one()
    rows = session.exec(select(model).order_by(model.id.desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    counts = {key: session.exec(select(func.count()).select_from(m)).one() for key, m in TABS.items()}
    return list(rows), total, counts


@bp.get("/outbox")
@permission_required("outbox.view")
def index():
    tab = request.args.get("tab", "sms")
    tab = tab if tab in TABS else "sms"
    page = page_arg()
    rows, total, counts = read(lambda s: _page(s, TABS[tab], page))
    return render_template("outbox/list.html", tab=tab, rows=rows, total=total, counts=counts, page=page,
                           pages=pages(total))
