"""事件历史: every event received (accepted or refused, and why), today by default; expanding a
row shows the event data, the strategies it matched with each step's attempts, and for the
strategies it did not match, the row-by-row reason."""
from __future__ import annotations

import json

from flask import Blueprint, abort, render_template, request
from sqlmodel import select

from config.clock import localize_times
from config.pii import mask_value
from engine.history import OUTCOME_LABELS, HistoryFilter, list_records, record_detail, start_of_today
from engine.models import TASK_STATUS_LABELS
from events.models import App, EventDefinition
from web.auth.guards import has_permission, permission_required
from web.console.forms_common import PER_PAGE, local_input, page_arg, pages, parse_local, query_args, read
from web.extensions import runtime

bp = Blueprint("history", __name__)
FILTERS = ("event", "app", "since", "until", "outcome", "task_status")
OUTCOME_CHOICES = [("matched", "匹配成功"), ("unmatched", "未匹配"), ("none", "无订阅策略"), ("error", "匹配出错"),
                   ("rejected", "接入失败"), ("pending", "待处理")]


@bp.app_template_filter("pii_json")
def pii_json(value) -> str:
    """Event data and payloads as readable JSON, with phones and e-mails masked unless pii.view."""
    value = localize_times(value)  # stored UTC, shown in the configured zone
    if not has_permission("pii.view"):
        value = mask_value(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def _listing(session, f: HistoryFilter) -> dict:
    rows, total = list_records(session, f)
    events = [(e.code, e.picker_label())
              for e in session.exec(select(EventDefinition).order_by(EventDefinition.name, EventDefinition.code))]
    apps = [(a.id, a.name) for a in session.exec(select(App).order_by(App.name))]
    return {"rows": rows, "total": total, "event_choices": events, "app_choices": apps}


@bp.get("/history")
@permission_required("history.view")
def index():
    args, rt = request.args, runtime()
    since_text = args.get("since")
    if since_text is None and not args.get("until"):
        # Today (configured zone) unless the user chose a period; an empty "since" means all time.
        since_text = local_input(start_of_today(rt.services.now(), rt.settings.timezone))[:10]
    f = HistoryFilter(event_code=args.get("event") or None, app_id=args.get("app", type=int),
                      since=parse_local(since_text or ""), until=parse_local(args.get("until", ""), end_of_day=True),
                      outcome=args.get("outcome") or None, task_status=args.get("task_status") or None,
                      page=page_arg(), per_page=PER_PAGE)
    data = read(lambda s: _listing(s, f))
    filter_args = query_args(*FILTERS)
    filter_args.setdefault("since", since_text or "")
    return render_template("history/list.html", **data, f=f, since=since_text or "", pages=pages(data["total"]),
                           args=filter_args, outcome_choices=OUTCOME_CHOICES,
                           task_choices=list(TASK_STATUS_LABELS.items()))


@bp.get("/history/<int:record_id>")
@permission_required("history.view")
def detail(record_id: int):
    rt = runtime()
    item = read(lambda s: record_detail(s, record_id, rt.services.now(), rt.settings.timezone))
    if item is None:
        abort(404)
    template = "history/_detail.html" if request.args.get("partial") == "1" else "history/detail.html"
    return render_template(template, d=item, status_labels=TASK_STATUS_LABELS)
