"""短信发件箱: every SMS (and e-mail) the built-in processors sent or, with the outbox provider,
would have sent — filterable by status, number and period, exportable, and masked for users
without 查看完整手机号 (on the page and in the export alike)."""
from __future__ import annotations

from flask import Blueprint, g, render_template, request

from config.clock import format_local
from config.pii import mask_text
from handlers.outbox import OUTBOXES, STATUSES, OutboxFilter, export_outbox, list_outbox
from web.auth.guards import permission_required
from web.console.forms_common import PER_PAGE, page_arg, pages, parse_local, query_args, read
from web.console.logs_export import FORMATS, send_table
from web.extensions import services

bp = Blueprint("outbox", __name__)
FILTERS = ("status", "number", "since", "until")


def _shown(value: str) -> str:
    return value if "pii.view" in g.get("permissions", frozenset()) else mask_text(value or "")


def _export(tab: str, f: OutboxFilter, fmt: str):
    tz = services().settings.timezone
    rows = read(lambda s: export_outbox(s, tab, f))
    if tab == "sms":
        return send_table("短信发件箱", fmt, ["时间", "手机号", "短信内容", "通道", "状态", "通道回应"],
                          ([format_local(m.created_at, "%Y-%m-%d %H:%M:%S", tz), _shown(m.mobile), _shown(m.content),
                            m.provider, STATUSES.get(m.status, m.status), _shown(m.provider_response)] for m in rows))
    return send_table("邮件发件箱", fmt, ["时间", "收件人", "主题", "状态", "错误"],
                      ([format_local(m.created_at, "%Y-%m-%d %H:%M:%S", tz), _shown(m.to), _shown(m.subject),
                        STATUSES.get(m.status, m.status), _shown(m.error)] for m in rows))


@bp.get("/outbox")
@permission_required("outbox.view")
def index():
    tab = request.args.get("tab", "sms")
    tab = tab if tab in OUTBOXES else "sms"
    a = request.args
    f = OutboxFilter(status=a.get("status", "") if a.get("status", "") in STATUSES else "",
                     number=a.get("number", "")[:64], since=parse_local(a.get("since", "")),
                     until=parse_local(a.get("until", ""), end_of_day=True))
    if a.get("export") in FORMATS:
        return _export(tab, f, a["export"])
    page = page_arg()
    rows, total, counts = read(lambda s: list_outbox(s, tab, page, PER_PAGE, f))
    return render_template("outbox/list.html", tab=tab, rows=rows, total=total, counts=counts, page=page,
                           pages=pages(total), f=f, statuses=STATUSES, args={"tab": tab, **query_args(*FILTERS)})
