"""死信: steps that ran out of attempts (or failed for good), with their last error; replaying
gives them fresh attempts, due now. Earlier attempts stay in 事件历史."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from engine.tasks import TaskFilter, list_tasks, replay_dead
from web.auth.guards import permission_required
from web.console.forms_common import PER_PAGE, page_arg, pages, read, selected_ids, write
from web.extensions import runtime

bp = Blueprint("deadletters", __name__)


@bp.get("/deadletters")
@permission_required("deadletters.view")
def index():
    f = TaskFilter(status="dead", page=page_arg(), per_page=PER_PAGE)
    rows, total = read(lambda s: list_tasks(s, f))
    return render_template("deadletters/list.html", rows=rows, total=total, f=f, pages=pages(total))


@bp.post("/deadletters/replay")
@permission_required("deadletters.manage")
def replay():
    ids, rt = selected_ids(), runtime()
    if not ids:
        flash("请先勾选要重放的死信", "warning")
        return redirect(url_for("deadletters.index"))
    who = g.user.username if g.get("user") is not None else ""
    extra = rt.settings.step_max_attempts
    count = write(lambda s: replay_dead(s, ids, rt.services.now(), extra, who))
    flash(f"已重放 {count} 个任务，每个最多再尝试 {extra} 次；结果见策略任务与事件历史", "success" if count else "warning")
    return redirect(request.form.get("next") or url_for("deadletters.index"))
