"""定时任务注册 (in 任务调度): an admin registers a job that, on its schedule, fires a registered
event with data typed by the event's fields, or calls a registered HTTP processor with its step
fields. The form lists the chosen target's fields; 「载入字段」 (automatic when the choice changes)
re-renders it for another target without saving."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from engine.cron_admin import create_custom, delete_custom, get_custom, update_custom
from engine.cron_custom import action_fields, event_choices, processor_choices
from engine.cron_models import CUSTOM_ACTION_LABELS, CronSchedule, CustomCronJob
from engine.cron_schedule import preview
from engine.errors import JobError, JobNotFound
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read
from web.console.jobs import bp
from web.extensions import runtime

__all__ = ["bp"]


def _form() -> dict:
    f = request.form
    action = f.get("action", "")
    target = f.get("event_target" if action == "event" else "http_target", "") if action in CUSTOM_ACTION_LABELS else ""
    data = {k[5:]: v for k, v in f.items() if k.startswith("data.")}
    return {"name": f.get("name", ""), "schedule": f.get("schedule", ""), "action": action, "target": target,
            "data": data, "remark": f.get("remark", ""), "enabled": f.get("enabled") == "1"}


def _page(job, values: dict, errors: dict, status: int = 200):
    rt = runtime()

    def load(s):
        return (event_choices(s), processor_choices(s),
                action_fields(s, rt.registry, values.get("action", ""), values.get("target", "")))

    events, processors, fields = read(load)
    try:
        upcoming = preview(values.get("schedule", ""), rt.settings.timezone, rt.services.now())
    except JobError:
        upcoming = []
    return render_template("jobs/custom_form.html", job=job, values=values, errors=errors, events=events,
                           processors=processors, fields=fields, upcoming=upcoming,
                           actions=list(CUSTOM_ACTION_LABELS.items())), status


def _save(job_id: int | None):
    values = _form()
    if request.form.get("reload"):
        return _page(read(lambda s: get_custom(s, job_id)) if job_id else None, values, {})
    rt = runtime()
    who = g.user.username if g.get("user") is not None else ""
    try:
        with rt.services.db.write() as s:
            if job_id is None:
                job = create_custom(s, rt.registry, values, rt.settings.timezone, who, rt.services.now())
            else:
                job = update_custom(s, rt.registry, job_id, values, rt.settings.timezone, who, rt.services.now())
            key, name = job.key, job.name
    except JobNotFound:
        abort(404)
    except JobError as exc:
        current = read(lambda s: s.get(CustomCronJob, job_id)) if job_id else None
        return _page(current, values, error_map(exc), 400)
    runtime().scheduler.reload()
    flash(f"定时任务「{name}」已{'注册' if job_id is None else '保存'}", "success")
    return redirect(url_for("jobs.detail", key=key))


@bp.route("/jobs/custom/new", methods=["GET", "POST"])
@permission_required("jobs.manage")
def custom_new():
    if request.method == "POST":
        return _save(None)
    return _page(None, {"name": "", "schedule": "09:00", "action": "event", "target": "", "data": {},
                        "remark": "", "enabled": True}, {})


@bp.route("/jobs/custom/<int:job_id>/edit", methods=["GET", "POST"])
@permission_required("jobs.manage")
def custom_edit(job_id: int):
    if request.method == "POST":
        return _save(job_id)

    def load(s):
        job = get_custom(s, job_id)
        return job, s.get(CronSchedule, job.key)

    try:
        job, sched = read(load)
    except JobNotFound:
        abort(404)
    return _page(job, {"name": job.name, "schedule": sched.schedule if sched else "", "action": job.action,
                       "target": job.target, "data": dict(job.data or {}), "remark": job.remark,
                       "enabled": bool(sched and sched.enabled)}, {})


@bp.post("/jobs/custom/<int:job_id>/delete")
@permission_required("jobs.manage")
def custom_delete(job_id: int):
    rt = runtime()
    try:
        with rt.services.db.write() as s:
            name = delete_custom(s, job_id)
    except JobNotFound:
        abort(404)
    runtime().scheduler.reload()
    flash(f"定时任务「{name}」已删除，运行记录仍保留", "success")
    return redirect(url_for("jobs.index"))
