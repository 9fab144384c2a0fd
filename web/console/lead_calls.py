"""电话获客 · 外呼: 外呼任务 (list, new, edit, detail with the call list and status buttons — 开始 / 暂停 /
继续 / 完成), 通话记录 (a seat sees their own calls, managers everyone's; numbers masked per viewer),
录音 (played or downloaded by the call's seat or a manager, every access logged) and the 禁呼名单.
Starting or resuming a task dials at once instead of waiting for the minute's job."""
from __future__ import annotations

import io
from pathlib import Path

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for

from sqlmodel import select

from crm.errors import CrmError
from crm.leads import call_dialing, call_records, calls
from crm.leads.call_models import CALL_RESULTS, CallRecord, CALL_STATES, RETRYABLE, TARGET_STATES, TASK_SOURCES, TASK_STATES
from crm.leads.models import LEAD_STATUSES, LeadChannel, LeadScene
from crm.people.models import User
from crm.tags.models import Tag
from engine.outbound_calls import callback_url, dial_soon
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, page_arg, read, write
from web.extensions import services

bp = Blueprint("lead_calls", __name__)
FIELDS = ("name", "source", "window", "max_attempts", "retry_minutes", "script")


def _choices(s) -> dict:
    return {"scenes": [(str(x.id), x.name) for x in s.exec(select(LeadScene).order_by(LeadScene.id)).all()],
            "channels": [(str(x.id), x.name) for x in s.exec(select(LeadChannel).order_by(LeadChannel.id)).all()],
            "tags": [(str(x.id), x.name) for x in s.exec(select(Tag).where(Tag.owner_id.is_(None)).order_by(Tag.id)).all()],
            "seats": [(str(u.id), u.display_name or u.username) for u in
                      s.exec(select(User).where(User.enabled.is_(True)).order_by(User.id)).all()]}


def _seat_names(s) -> dict[int, str]:
    return {u.id: u.display_name or u.username for u in s.exec(select(User)).all()}


def _form() -> dict:
    f = request.form
    data = {k: f.get(k, "") for k in FIELDS}
    data["seat_user_ids"] = f.getlist("seat_user_ids")
    data["retry_on"] = f.getlist("retry_on")
    if data["source"] == "tags":
        data["filters"] = {"tag_ids": f.getlist("tag_ids")}
    else:
        data["filters"] = {"scene_id": f.get("scene_id") or None, "channel_id": f.get("channel_id") or None,
                           "statuses": f.getlist("statuses")}
    return data


def _render_form(task, values, errors, status=200):
    return render_template("lead_calls/form.html", task=task, values=values, errors=errors,
                           choices=read(_choices), sources=TASK_SOURCES, statuses=LEAD_STATUSES,
                           retryable={k: CALL_RESULTS[k] for k in RETRYABLE}), status


def _values(task) -> dict:
    values = {k: getattr(task, k) for k in FIELDS}
    values.update(seat_user_ids=[str(x) for x in task.seat_user_ids], retry_on=list(task.retry_on), filters=task.filters)
    return values


@bp.get("/leads/calls")
@permission_required("leads.view")
def index():
    tasks = read(call_records.list_tasks)
    summary = read(lambda s: call_records.task_summary(s, [t.id for t in tasks]))
    return render_template("lead_calls/index.html", tasks=tasks, summary=summary, states=TASK_STATES,
                           configured=bool(services().settings.cti_dial_url))


@bp.route("/leads/calls/new", methods=["GET", "POST"])
@permission_required("scenes.manage")
def new():
    if request.method == "GET":
        return _render_form(None, {"source": "leads", "window": "09:00-18:00", "max_attempts": 3, "retry_minutes": 30,
                                   "retry_on": list(RETRYABLE), "seat_user_ids": [], "filters": {}}, {})
    values = _form()
    try:
        task = write(lambda s: calls.create_task(s, values, g.user.id))
    except CrmError as exc:
        return _render_form(None, values, error_map(exc), 400)
    flash(f"已创建外呼任务「{task.name}」，点击「开始」后按时间段拨打", "success")
    return redirect(url_for("lead_calls.show", task_id=task.id))


@bp.route("/leads/calls/<int:task_id>/edit", methods=["GET", "POST"])
@permission_required("scenes.manage")
def edit(task_id: int):
    try:
        task = read(lambda s: calls.get_task(s, task_id))
    except CrmError:
        abort(404)
    if request.method == "GET":
        return _render_form(task, _values(task), {})
    values = _form()
    try:
        write(lambda s: calls.update_task(s, task_id, values))
    except CrmError as exc:
        return _render_form(task, values, error_map(exc), 400)
    flash("已保存外呼任务", "success")
    return redirect(url_for("lead_calls.show", task_id=task_id))


@bp.get("/leads/calls/<int:task_id>")
@permission_required("leads.view")
def show(task_id: int):
    def load(s):
        task = calls.get_task(s, task_id)
        records, total = call_records.list_records(s, current_viewer(), task_id=task_id, page=page_arg())
        return (task, call_records.task_targets(s, task_id), records, total,
                call_records.task_summary(s, [task_id])[task_id], _seat_names(s))
    try:
        task, targets, records, total, summary, seat_names = read(load)
    except CrmError:
        abort(404)
    return render_template("lead_calls/show.html", task=task, targets=targets, records=records, total=total,
                           summary=summary, states=TASK_STATES, target_states=TARGET_STATES, results=CALL_RESULTS,
                           call_states=CALL_STATES, transitions=calls.TRANSITIONS[task.status], seat_names=seat_names)


@bp.post("/leads/calls/<int:task_id>/status")
@permission_required("scenes.manage")
def set_status(task_id: int):
    status = request.form.get("status", "")
    try:
        task = write(lambda s: calls.set_status(s, task_id, status, services().now()))
    except CrmError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
        return redirect(url_for("lead_calls.show", task_id=task_id))
    if task.status == "running":
        dial_soon(services(), callback_url(services().settings, request.host_url))
    flash(f"外呼任务已{TASK_STATES[task.status]}", "success")
    return redirect(url_for("lead_calls.show", task_id=task_id))


@bp.get("/leads/calls/records")
@permission_required("leads.view")
def records():
    result = request.args.get("result", "")
    rows, total = read(lambda s: call_records.list_records(s, current_viewer(), result=result if result in CALL_RESULTS else "",
                                                          page=page_arg()))
    return render_template("lead_calls/records.html", records=rows, total=total, results=CALL_RESULTS,
                           call_states=CALL_STATES, result=result, seat_names=read(_seat_names))


@bp.get("/leads/calls/records/<int:record_id>/recording")
@permission_required("leads.view")
def recording(record_id: int):
    """Plays (inline) or downloads (?download=1) a call's recording: the call's seat or a manager only."""
    download = request.args.get("download") == "1"
    viewer = current_viewer()

    def load(s):
        record = s.get(CallRecord, record_id)
        if record is None:
            abort(404)
        if not (call_records.sees_all(viewer) or record.seat_user_id == viewer.user_id):
            abort(403)
        if not record.recording_path:
            abort(404)
        call_records.log_access(s, record.id, viewer.user_id, "download" if download else "play",
                                request.remote_addr or "", services().now())
        return record
    record = write(load)
    path = Path(services().settings.var_dir) / "recordings" / Path(record.recording_path).name
    if not path.is_file():
        abort(404)
    # Read whole (recordings are capped at CKB_CALL_RECORDING_MAX_MB): no file handle outlives the request.
    return send_file(io.BytesIO(path.read_bytes()), mimetype=record.recording_type or "application/octet-stream", as_attachment=download,
                     download_name=f"通话录音_{record.id}{path.suffix}", max_age=0)


@bp.route("/leads/calls/dnc", methods=["GET", "POST"])
@permission_required("scenes.manage")
def dnc():
    errors = {}
    if request.method == "POST":
        try:
            write(lambda s: call_dialing.add_do_not_call(s, request.form.get("mobile", ""), request.form.get("reason", ""),
                                                         g.user.id))
        except CrmError as exc:
            errors = error_map(exc)
        else:
            flash("已加入禁呼名单，任何外呼任务都不会再拨打该号码", "success")
            return redirect(url_for("lead_calls.dnc"))
    return render_template("lead_calls/dnc.html", rows=read(call_records.do_not_call_list), errors=errors,
                           values=request.form), (400 if errors else 200)


@bp.post("/leads/calls/dnc/<int:row_id>/delete")
@permission_required("scenes.manage")
def dnc_delete(row_id: int):
    try:
        write(lambda s: call_records.remove_do_not_call(s, row_id))
    except CrmError:
        abort(404)
    flash("已移出禁呼名单", "success")
    return redirect(url_for("lead_calls.dnc"))
