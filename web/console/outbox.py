"""短信发件箱: every SMS (and e-mail) the built-in processors sent or, with the outbox provider,
would have sent — masked for users without 查看完整手机号."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from handlers.outbox import OUTBOXES, list_outbox
from web.auth.guards import permission_required
from web.console.forms_common import PER_PAGE, page_arg, pages, read

bp = Blueprint("outbox", __name__)


@bp.get("/outbox")
@permission_required("outbox.view")
def index():
    tab = request.args.get("tab", "sms")
    tab = tab if tab in OUTBOXES else "sms"
    page = page_arg()
    rows, total, counts = read(lambda s: list_outbox(s, tab, page, PER_PAGE))
    return render_template("outbox/list.html", tab=tab, rows=rows, total=total, counts=counts, page=page,
                           pages=pages(total))
