"""商品导入/导出 on the products blueprint: download the template, upload a sheet (a background job
whose progress and error sheet show on the page), export what the list's filters find."""
from __future__ import annotations

import io

from flask import flash, g, redirect, render_template, request, send_file, url_for

from commerce.catalog import importing
from commerce.errors import CommerceError
from crm.jobs import runner
from web.auth.guards import permission_required
from web.console.forms_common import read
from web.console.job_views import own_job, result_file, status_answer
from web.console.products import _query, bp
from web.extensions import runtime, services
from web.input_limits import optional_int

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("/products/import")
@permission_required("products.manage")
def import_page():
    jobs = runner.list_jobs(services().db, kind=importing.KIND, created_by=g.user.id, limit=20)
    job_id = optional_int(request.args.get("job"))
    return render_template("products/import.html", jobs=jobs, job_id=job_id,
                           max_mb=importing.MAX_UPLOAD_BYTES // (1024 * 1024))


@bp.post("/products/import")
@permission_required("products.manage")
def import_upload():
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("请选择要导入的文件", "error")
        return redirect(url_for("products.import_page"))
    svc = services()
    try:
        job = importing.submit_import(svc.db, svc.settings.var_dir, file.filename, file.stream, created_by=g.user.id,
                                      now=svc.now())
    except CommerceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("products.import_page"))
    jobs = getattr(runtime(), "jobs", None)
    if jobs is not None and hasattr(jobs, "wake"):
        jobs.wake()
    flash(f"已提交导入任务 #{job.id}，可在下方查看进度", "success")
    return redirect(url_for("products.import_page", job=job.id))


@bp.get("/products/import/template.xlsx")
@permission_required("products.manage")
def import_template():
    return send_file(io.BytesIO(importing.template_xlsx()), mimetype=XLSX, as_attachment=True,
                     download_name="商品导入模板.xlsx")


def _own(job_id: int):
    return own_job(job_id, {importing.KIND: "导入"}, "products.manage_all")


@bp.get("/products/import/jobs/<int:job_id>.json")
@permission_required("products.manage")
def import_status(job_id: int):
    return status_answer(_own(job_id), "products.import_result")


@bp.get("/products/import/jobs/<int:job_id>/result")
@permission_required("products.manage")
def import_result(job_id: int):
    return result_file(_own(job_id), f"商品导入错误_{job_id}")


@bp.get("/products/export.xlsx")
@permission_required("products.view")
def export():
    query, _extra = _query()
    data = read(lambda s: importing.export_xlsx(s, query))
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="商品导出.xlsx")
