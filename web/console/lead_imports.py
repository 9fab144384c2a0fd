"""线索导入 and 订单同步记录: upload a lead spreadsheet into a scene (with channel and 获客计划),
download the template, follow each import's progress and download its error sheet; and, for the
scenes that poll a platform, every sync run with the cursor and backoff state and a 立即同步
button (手动触发订单同步)."""
from __future__ import annotations

import io

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from crm.errors import CrmError
from crm.jobs import runner
from crm.leads import importing, pull_state
from crm.leads.models import SCENE_TYPES, AcquisitionPlan, LeadChannel, LeadScene, PullCursor
from engine.lead_pull import sync_now
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read
from web.console.job_views import own_job, result_file, status_answer
from web.extensions import runtime, services
from web.input_limits import optional_int

bp = Blueprint("lead_imports", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _choices(session) -> dict:
    """Scenes (文件导入 first), active channels, and plans tagged with their scene for the form's filter."""
    scenes = sorted(session.scalars(select(LeadScene).where(LeadScene.is_enabled)),
                    key=lambda s: (s.scene_type != "FILE_IMPORT", s.id))
    channels = session.scalars(select(LeadChannel).where(LeadChannel.is_active).order_by(LeadChannel.id))
    plans = session.scalars(select(AcquisitionPlan).where(AcquisitionPlan.status.in_(("draft", "running", "paused")))
                            .order_by(AcquisitionPlan.id.desc()))
    return {"scenes": [(s.id, f"{s.name}（{SCENE_TYPES.get(s.scene_type, s.scene_type)}）") for s in scenes],
            "channels": [(c.id, c.name) for c in channels],
            "plans": [{"id": p.id, "name": p.name, "scene_id": p.scene_id} for p in plans]}


def _jobs():
    """Lead imports: everyone's for holders of leads.manage, otherwise one's own."""
    mine = None if "leads.manage" in g.permissions else g.user.id
    return runner.list_jobs(services().db, kind=importing.KIND, created_by=mine, limit=50)


def _render(form: dict | None = None, errors: dict | None = None, status: int = 200):
    body = render_template("lead_imports/index.html", jobs=_jobs(), form=form or {}, errors=errors or {},
                           max_mb=importing.MAX_UPLOAD_BYTES // (1024 * 1024), max_rows=importing.MAX_ROWS,
                           **read(_choices))
    return body, status


@bp.get("/leads/imports")
@permission_required("leads.import")
def index():
    return _render({"scene_id": request.args.get("scene_id", type=int)})


def _optional_int(name: str):
    return optional_int(request.form.get(name))


@bp.post("/leads/imports")
@permission_required("leads.import")
def upload():
    form = {k: _optional_int(k) for k in ("scene_id", "channel_id", "plan_id")}
    file = request.files.get("file")
    if file is None or not file.filename:
        return _render(form, {"file": ["请选择要导入的文件"]}, 400)
    svc = services()
    try:
        job = importing.submit_import(svc.db, svc.settings.var_dir, file.filename, file.stream,
                                      created_by=g.user.id, tz=svc.settings.timezone, now=svc.now(), **form)
    except CrmError as exc:
        errors = error_map(exc)
        errors.setdefault("__all__", [exc.message])  # the summary above the form, field hints under each
        return _render(form, errors, 400)
    jobs = getattr(runtime(), "jobs", None)
    if jobs is not None:
        jobs.wake()  # this process's worker starts it at once
    flash(f"已提交线索导入任务 #{job.id}，可在下方查看进度", "success")
    return redirect(url_for("lead_imports.index", job=job.id))


@bp.get("/leads/imports/template.<fmt>")
@permission_required("leads.import")
def template(fmt: str):
    if fmt == "xlsx":
        data, mime = importing.template_xlsx(), XLSX
    elif fmt == "csv":
        data, mime = importing.template_csv(), "text/csv"
    else:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=mime, as_attachment=True, download_name=f"线索导入模板.{fmt}")


def _own_job(job_id: int):
    return own_job(job_id, (importing.KIND,), "leads.manage")


@bp.get("/leads/imports/jobs/<int:job_id>.json")
@permission_required("leads.import")
def job_status(job_id: int):
    return status_answer(_own_job(job_id), "lead_imports.result")


@bp.get("/leads/imports/jobs/<int:job_id>/result")
@permission_required("leads.import")
def result(job_id: int):
    job = _own_job(job_id)
    return result_file(job, f"线索导入错误_{job.id}", XLSX)


# ---- 订单同步记录 ----------------------------------------------------------------------------------

def _pull_page(session, scene_id):
    polling = pull_state.polling_scenes(session)
    cursors = {c.scene_id: c for c in session.scalars(select(PullCursor))}
    names = {s.id: s.name for s in session.scalars(select(LeadScene))}
    rows = [{"scene": s, "config": c, "cursor": cursors.get(s.id)} for s, c in polling]
    return rows, pull_state.list_runs(session, scene_id, limit=100), names


@bp.get("/leads/pulls")
@permission_required("leads.view")
def pulls():
    scene_id = request.args.get("scene_id", type=int)
    rows, runs, names = read(lambda s: _pull_page(s, scene_id))
    return render_template("lead_imports/pulls.html", rows=rows, runs=runs, names=names, scene_id=scene_id,
                           backoff=pull_state.backoff_minutes)


@bp.post("/leads/pulls/<int:scene_id>/sync")
@permission_required("leads.import")
def sync(scene_id: int):
    try:
        run = sync_now(services(), scene_id, trigger="manual")
    except CrmError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
        return redirect(url_for("lead_imports.pulls"))
    if run.ok:
        flash(f"同步完成：拉取 {run.fetched} 条，新线索 {run.created}，重复 {run.duplicates}，拒收 {run.rejected}",
              "success")
    else:
        flash(f"同步失败：{run.error}", "danger")
    return redirect(url_for("lead_imports.pulls", scene_id=scene_id))

