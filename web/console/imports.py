"""客户导入: upload an .xlsx/.csv (to the company pool or a group, with tags), download the
template, follow each import (and export) job's progress, download its error sheet or file."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from crm.customers import exporting, importing
from crm.customers.import_columns import template_csv, template_xlsx
from crm.errors import CrmError
from crm.jobs import runner
from web.auth.guards import permission_required
from web.console.forms_common import read
from web.console.job_views import own_job, result_file, status_answer
from web.extensions import runtime, services
from web.input_limits import int_values

bp = Blueprint("imports", __name__)
KINDS = {importing.KIND: "导入", exporting.KIND: "导出"}


def _choices(session):
    from crm.groups.models import CustomerGroup

    groups = [(grp.id, grp.name) for grp in session.scalars(select(CustomerGroup).order_by(CustomerGroup.id))]
    try:
        from crm.tags.service import choices
        tags = [(t.id, t.name) for t in choices(session, g.user.id)]
    except ImportError:
        tags = []
    return groups, tags


def _jobs():
    """Import/export jobs: everyone's for holders of customers.view_all, otherwise one's own."""
    mine = None if "customers.view_all" in g.permissions else g.user.id
    rows = []
    for kind in KINDS:
        rows += runner.list_jobs(services().db, kind=kind, created_by=mine, limit=30)
    return sorted(rows, key=lambda j: j.id, reverse=True)[:50]


@bp.get("/imports")
@permission_required("customers.import")
def index():
    groups, tags = read(_choices)
    return render_template("imports/index.html", groups=groups, tags=tags, jobs=_jobs(), kinds=KINDS,
                           max_mb=importing.MAX_UPLOAD_BYTES // (1024 * 1024))


@bp.post("/imports")
@permission_required("customers.import")
def upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("请选择要导入的文件", "danger")
        return redirect(url_for("imports.index"))
    target = request.form.get("target", "pool")
    group_id = request.form.get("group_id", type=int) if target == "group" else None
    if target == "group" and group_id is None:
        flash("请选择导入到哪个分组", "danger")
        return redirect(url_for("imports.index"))
    tag_ids = int_values(request.form.getlist("tag_ids"))
    svc = services()
    try:
        job = importing.submit_import(svc.db, svc.settings.var_dir, file.filename, file.stream, group_id=group_id,
                                      tag_ids=tag_ids, created_by=g.user.id, tz=svc.settings.timezone, now=svc.now(),
                                      permissions=g.permissions)
    except CrmError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("imports.index"))
    _wake_runner()
    flash(f"已提交导入任务 #{job.id}，可在下方查看进度", "success")
    return redirect(url_for("imports.index", job=job.id))


def _wake_runner() -> None:
    """Nudges this process's job runner, if the runtime has one, so the job starts at once."""
    jobs = getattr(runtime(), "jobs", None)
    if jobs is not None and hasattr(jobs, "wake"):
        jobs.wake()


@bp.get("/imports/template.<fmt>")
@permission_required("customers.import")
def template(fmt: str):
    if fmt == "xlsx":
        data, mime = read(template_xlsx), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "csv":
        data, mime = read(template_csv), "text/csv"
    else:
        abort(404)
    import io

    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=f"客户导入模板.{fmt}")


def _own_job(job_id: int):
    return own_job(job_id, KINDS, "customers.view_all")


@bp.get("/imports/jobs/<int:job_id>.json")
@permission_required("customers.view")
def job_status(job_id: int):
    return status_answer(_own_job(job_id), "imports.result")


@bp.get("/imports/jobs/<int:job_id>/result")
@permission_required("customers.view")
def result(job_id: int):
    job = _own_job(job_id)
    prefix = "导入错误" if job.kind == importing.KIND else "客户导出"
    return result_file(job, f"{prefix}_{job.id}")
