"""The console's view of its background jobs (客户导入/导出, 线索导入): who may see a job, its
progress as JSON for the page's polling, and its result file — kept inside var/."""
from __future__ import annotations

from flask import abort, g, jsonify, send_file, url_for

from crm.jobs import runner
from web.extensions import services


def own_job(job_id: int, kinds, see_all_permission: str):
    """The job if it is of one of `kinds` and the user started it or may see everyone's; else 404."""
    job = runner.get_job(services().db, job_id)
    if job is None or job.kind not in kinds:
        abort(404)
    if job.created_by != g.user.id and see_all_permission not in g.permissions:
        abort(404)
    return job


def status_answer(job, result_endpoint: str):
    body = runner.status_dict(job)
    if job.result_path:
        body["result_url"] = url_for(result_endpoint, job_id=job.id)
    return jsonify(body)


def result_file(job, download_name: str, mimetype: str | None = None):
    """The job's result file (an error sheet or an export), refused outside var/."""
    if not job.result_path:
        abort(404)
    var_dir = services().settings.var_dir.resolve()
    path = (var_dir / job.result_path).resolve()
    if var_dir not in path.parents or not path.exists():
        abort(404)
    return send_file(path, mimetype=mimetype, as_attachment=True, download_name=f"{download_name}{path.suffix}")
