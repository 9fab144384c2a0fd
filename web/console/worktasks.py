"""任务中心 and 客户跟进任务: the board (by date / status / priority, drag-and-drop), the list
view, 我的任务 / 我创建的 / 全部, the task form, and recording a 跟进记录."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from crm.customers.models import Customer
from crm.errors import CrmError, NotFound
from crm.sales import task_views
from crm.sales.followups import STATUSES as FOLLOW_STATUSES, WAYS, list_follow_ups, record_follow_up
from crm.scope import load
from crm.sales.task_dates import DATE_BUCKET_LABELS
from crm.sales.tasks import (KIND_LABELS, PRIORITY_LABELS, STATUS_LABELS, create_task, get_task, move_task,
                             set_status, update_task)
from web.auth.guards import current_viewer, has_permission, permission_required
from web.console.masking_filters import mask_list
from web.console.forms_common import PER_PAGE, error_map, json_error, page_arg, pages, read, selected_ids
from web.console.worktasks_forms import (follow_form, me, now, posted_task_values, save, sees_all, task_form,
                                         task_values, tz, user_choices)

bp = Blueprint("worktasks", __name__)
VIEWS = {"date": "按日期", "status": "按状态", "priority": "按优先级", "list": "列表"}
SCOPES = {"mine": "我的任务", "created": "我创建的", "all": "全部任务"}
LABELS = {"status": STATUS_LABELS, "priority": PRIORITY_LABELS, "kind": KIND_LABELS, "date": DATE_BUCKET_LABELS,
          "way": WAYS, "follow_status": FOLLOW_STATUSES}


def _scope() -> str:
    scope = request.args.get("scope", "mine")
    return scope if scope in SCOPES and (scope != "all" or sees_all()) else "mine"


def _filter(kind=None) -> task_views.TaskFilter:
    a = request.args
    return task_views.TaskFilter(user_id=me(), scope=_scope(), status=a.get("status") or None,
                                 priority=a.get("priority") or None, kind=kind or a.get("kind") or None,
                                 search=a.get("q", ""), page=page_arg(), per_page=PER_PAGE, viewer=current_viewer())


def _visible_task(session, task_id: int):
    """The task through crm.scope: someone else's task, or one on a customer no longer theirs, is a 404."""
    try:
        return get_task(session, task_id, current_viewer())
    except NotFound:
        abort(404)


@bp.get("/worktasks")
@permission_required("worktasks.view")
def index():
    view = request.args.get("view", "date")
    view = view if view in VIEWS else "date"
    f = _filter()

    def load(s):
        data = {"counts": task_views.counts(s, me(), current_viewer())}
        if view == "list":
            data["rows"], data["total"] = task_views.list_tasks(s, f)
        else:
            data["columns"] = task_views.board(s, f, view, now(), tz())
        return data

    data = read(load)
    scopes = {k: v for k, v in SCOPES.items() if k != "all" or sees_all()}
    return render_template("worktasks/index.html", view=view, views=VIEWS, scope=f.scope, scopes=scopes, f=f,
                           labels=LABELS, pages=pages(data.get("total", 0)), **data)


def _form_page(task, values, errors, status=200):
    choices = read(user_choices)
    return render_template("worktasks/form.html", task=task, values=values, errors=errors, users=choices,
                           labels=LABELS), status


@bp.route("/worktasks/tasks/new", methods=["GET", "POST"])
@permission_required("worktasks.manage")
def task_new():
    if request.method == "POST":
        data = task_form()
        try:
            task = save(lambda s: create_task(s, data, creator_id=me(), now=now(), viewer=current_viewer()))
        except CrmError as exc:
            return _form_page(None, posted_task_values(data), error_map(exc), 400)
        flash(f"已创建任务「{task.title}」", "success")
        return redirect(url_for("worktasks.index"))
    values = {"kind": request.args.get("kind", "normal"), "customer_id": request.args.get("customer_id", ""),
              "owner_id": me(), "priority": "normal", "status": "todo", "progress": 0}
    return _form_page(None, values, {})


@bp.route("/worktasks/tasks/<int:task_id>", methods=["GET", "POST"])
@permission_required("worktasks.view")
def task_edit(task_id: int):
    task = read(lambda s: _visible_task(s, task_id))
    if request.method == "POST":
        if not has_permission("worktasks.manage"):
            abort(403, description="缺少权限：管理任务与跟进（worktasks.manage）")
        data = task_form()
        try:
            save(lambda s: update_task(s, task_id, data, now=now(), viewer=current_viewer()))
        except CrmError as exc:
            return _form_page(task, posted_task_values(data), error_map(exc), 400)
        flash("任务已保存", "success")
        return redirect(url_for("worktasks.index"))
    return _form_page(task, task_values(task), {})


@bp.post("/worktasks/tasks/<int:task_id>/move")
@permission_required("worktasks.manage")
def task_move(task_id: int):
    body = request.get_json(silent=True) or {}
    read(lambda s: _visible_task(s, task_id))
    try:
        position = int(body.get("position") or 0)
        task = save(lambda s: move_task(s, task_id, str(body.get("kind") or ""), str(body.get("column") or ""),
                                        position, now=now(), tz=tz(), viewer=current_viewer()))
    except (TypeError, ValueError):
        return json_error(CrmError("位置无效"))
    except CrmError as exc:
        return json_error(exc)
    return jsonify({"ok": True, "task": {"id": task.id, "status": task.status, "priority": task.priority,
                                         "position": task.position}})


@bp.post("/worktasks/tasks/status")
@permission_required("worktasks.manage")
def task_status():
    ids = selected_ids()
    status = request.form.get("status", "")
    back = request.form.get("next") or url_for("worktasks.index", view="list")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("worktasks.index")
    try:
        count = save(lambda s: set_status(s, ids, status, now=now(), viewer=current_viewer()))
    except CrmError as exc:
        flash(exc.message, "error")
        return redirect(back)
    flash(f"已更新 {count} 个任务为「{STATUS_LABELS.get(status, status)}」", "success" if count else "warning")
    return redirect(back)


@bp.get("/worktasks/followups")
@permission_required("worktasks.view")
def followups():
    f = _filter(kind="follow_up")
    if not request.args.get("status"):
        f.status = None

    def load(s):
        rows, total = task_views.list_tasks(s, f)
        records = [{"r": r, "content": mask_list(r.content)}
                   for r in list_follow_ups(s, user_id=me(), limit=20, viewer=current_viewer())]
        return {"rows": rows, "total": total, "records": records}

    data = read(load)
    scopes = {k: v for k, v in SCOPES.items() if k != "all" or sees_all()}
    return render_template("worktasks/followups.html", f=f, scope=f.scope, scopes=scopes, labels=LABELS,
                           pages=pages(data["total"]), **data)


@bp.route("/worktasks/followups/new", methods=["GET", "POST"])
@permission_required("worktasks.manage")
def followup_new():
    task_id = request.values.get("task_id", type=int)
    task = read(lambda s: _visible_task(s, task_id)) if task_id else None
    customer_id = task.customer_id if task and task.customer_id else request.values.get("customer_id", type=int)
    try:  # another salesperson's customer is not found: its name never shows
        customer = read(lambda s: load(s, current_viewer(), Customer, customer_id)) if customer_id else None
    except NotFound:
        abort(404)
    values = {"way": "phone", "status": "following", "maturity": 0, "content": ""}
    errors: dict = {}
    if request.method == "POST":
        data = follow_form()
        data["task_id"] = task.id if task else None
        data["customer_id"] = customer.id if customer else data["customer_id"]
        try:
            save(lambda s: record_follow_up(s, data, me(), now=now(), tz=tz(), viewer=current_viewer()))
        except CrmError as exc:
            values, errors = {**request.form.to_dict()}, error_map(exc)
        else:
            flash("跟进记录已保存" + ("，任务已完成" if task else ""), "success")
            return redirect(url_for("worktasks.followups"))
    return render_template("worktasks/follow_form.html", task=task, customer=customer, values=values,
                           errors=errors, labels=LABELS), 400 if errors else 200
