"""策略任务: the steps the engine planned — by default the delayed ones (未执行 / 已执行 / 已取消),
with filters, and cancelling a pending task so it never runs; 定时作业记录: every cron slot,
run or missed while the server was down."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from engine.cron_clock import missed_count, recent_runs
from engine.models import CRON_RUN_STATUS_LABELS, TASK_STATUS_LABELS
from engine.tasks import TaskFilter, cancel_tasks, list_tasks
from events.models import EventDefinition
from rules.models import Strategy
from web.auth.guards import permission_required
from web.console.forms_common import PER_PAGE, page_arg, pages, parse_local, query_args, read, selected_ids, write

bp = Blueprint("tasks", __name__)
FILTERS = ("status", "strategy", "since", "until", "all")


def _listing(session, f: TaskFilter) -> dict:
    rows, total = list_tasks(session, f)
    strategies = [(s.id, s.name) for s in session.exec(select(Strategy).order_by(Strategy.name))]
    events = {e.code: e.name for e in session.exec(select(EventDefinition))}
    return {"rows": rows, "total": total, "strategy_choices": strategies, "event_names": events,
            "missed_cron": missed_count(session)}


@bp.get("/tasks")
@permission_required("tasks.view")
def index():
    args = request.args
    f = TaskFilter(status=args.get("status") or None, strategy_id=args.get("strategy", type=int),
                   delayed_only=args.get("all") != "1", since=parse_local(args.get("since", "")),
                   until=parse_local(args.get("until", ""), end_of_day=True), page=page_arg(), per_page=PER_PAGE)
    data = read(lambda s: _listing(s, f))
    return render_template("tasks/list.html", **data, f=f, pages=pages(data["total"]), args=query_args(*FILTERS),
                           status_labels=TASK_STATUS_LABELS)


@bp.get("/tasks/cron")
@permission_required("tasks.view")
def cron_runs():
    only_missed = request.args.get("status") == "missed"
    runs = read(lambda s: recent_runs(s, 200, "missed" if only_missed else None))
    return render_template("tasks/cron.html", runs=runs, only_missed=only_missed, labels=CRON_RUN_STATUS_LABELS)


@bp.post("/tasks/cancel")
@permission_required("tasks.manage")
def cancel():
    ids = selected_ids()
    back = request.form.get("next") or url_for("tasks.index")
    if not ids:
        flash("请先勾选要取消的任务", "warning")
        return redirect(back)
    who = g.user.username if g.get("user") is not None else ""
    count = write(lambda s: cancel_tasks(s, ids, who))
    skipped = len(ids) - count
    flash(f"已取消 {count} 个任务" + (f"；{skipped} 个任务已执行或已结束，无法取消" if skipped else ""),
          "success" if count else "warning")
    return redirect(back)
