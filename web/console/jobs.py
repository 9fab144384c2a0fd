"""任务调度: every cron job of the system (the code's and the ones registered in 定时任务注册) with
its module, schedule, next runs and last run; editing a schedule (HH:MM or cron, checked, next
five runs previewed), on/off, 恢复默认, 立即执行 (queued for the scheduler leader, once), and each
job's runs. The registered jobs' forms are in web/console/jobs_custom.py."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from config.clock import as_utc
from engine import cron_requests
from engine.cron_registry import catalog, find, last_runs, reset_schedule, runs_of, save_schedule
from engine.cron_schedule import human, local_label, next_runs, preview as preview_runs
from engine.cron_models import REQUEST_STATUS_LABELS, TRIGGER_LABELS
from engine.crm_wiring import all_cron_jobs
from engine.errors import JobError, JobNotFound
from engine.models import CRON_RUN_STATUS_LABELS
from web.auth.guards import has_permission, permission_required
from web.console.forms_common import error_map, read
from web.extensions import runtime

bp = Blueprint("jobs", __name__)
# A slot this long past with no run recorded is shown as 逾期未运行 (a run may take a moment to start).
OVERDUE_GRACE = timedelta(minutes=5)


def code_jobs() -> list:
    rt = runtime()
    return all_cron_jobs(rt.settings, rt.extra_cron_jobs)


def _who() -> str:
    return g.user.username if g.get("user") is not None else ""


def _changed() -> None:
    """This process re-times its own jobs at once; other schedulers see the version within seconds."""
    runtime().scheduler.reload()


def overdue(entry, last, tz: str, now) -> bool:
    """Enabled, has run before, and a slot after its latest record (and after the schedule was
    last changed) passed more than the grace ago without a run."""
    if not entry.enabled or last is None:
        return False
    since = as_utc(last.slot_at)
    if entry.stored is not None:
        since = max(since, as_utc(entry.stored.updated_at))
    slot = next_runs(entry.job.cron, tz, since + timedelta(seconds=1), 1)
    return bool(slot) and slot[0] <= now - OVERDUE_GRACE


def _rows(session, q: str, only_problems: bool) -> list[dict]:
    rt = runtime()
    tz, now = rt.settings.timezone, rt.services.now()
    last = last_runs(session)
    live = cron_requests.live_requests(session)
    rows = []
    for e in catalog(session, code_jobs()):
        if q and q.lower() not in f"{e.name} {e.key} {e.owner_label}".lower():
            continue
        run = last.get(e.key)
        late = overdue(e, run, tz, now)
        if only_problems and not late and (run is None or run.status not in ("failed", "missed")):
            continue
        nxt = next_runs(e.job.cron, tz, now, 1) if e.enabled else []
        rows.append({"e": e, "last": run, "overdue": late, "live": live.get(e.key),
                     "next": local_label(nxt[0], tz) if nxt else "—"})
    return rows


@bp.get("/jobs")
@permission_required("jobs.view")
def index():
    q = (request.args.get("q") or "").strip()[:50]
    only_problems = request.args.get("problems") == "1"
    rows = read(lambda s: _rows(s, q, only_problems))
    return render_template("jobs/index.html", rows=rows, q=q, only_problems=only_problems,
                           run_labels=CRON_RUN_STATUS_LABELS, can_manage=has_permission("jobs.manage"),
                           tz_name=runtime().settings.timezone, human=human)


def _detail(key: str, form_value: str | None = None, enabled=None, errors=None, status: int = 200):
    rt = runtime()
    tz, now = rt.settings.timezone, rt.services.now()

    def load(s):
        entry = find(s, code_jobs(), key)
        return entry, runs_of(s, key, 50), cron_requests.recent_requests(s, key, 10), \
            cron_requests.live_requests(s).get(key)

    try:
        entry, runs, requests_, live = read(load)
    except JobNotFound:
        abort(404)
    schedule = entry.schedule if form_value is None else form_value
    try:
        upcoming = preview_runs(schedule, tz, now)
    except JobError:
        upcoming = []
    return render_template("jobs/detail.html", e=entry, runs=runs, requests=requests_, live=live,
                           schedule=schedule, enabled=entry.enabled if enabled is None else enabled,
                           upcoming=upcoming, errors=errors or {}, run_labels=CRON_RUN_STATUS_LABELS,
                           trigger_labels=TRIGGER_LABELS, request_labels=REQUEST_STATUS_LABELS,
                           can_manage=has_permission("jobs.manage"), tz_name=tz), status


@bp.get("/jobs/<key>")
@permission_required("jobs.view")
def detail(key: str):
    return _detail(key)


@bp.post("/jobs/<key>")
@permission_required("jobs.manage")
def save(key: str):
    text = (request.form.get("schedule") or "").strip()
    enabled = request.form.get("enabled") == "1"
    rt = runtime()
    try:
        with rt.services.db.write() as s:
            entry = save_schedule(s, code_jobs(), key, text, enabled, _who(), rt.services.now())
    except JobNotFound:
        abort(404)
    except JobError as exc:
        return _detail(key, text, enabled, error_map(exc), 400)
    _changed()
    flash(f"已保存「{entry.name}」：{'每天 ' if ':' in entry.schedule else ''}{entry.schedule}"
          + ("" if entry.enabled else "（已停用）"), "success")
    return redirect(url_for("jobs.detail", key=key))


@bp.post("/jobs/<key>/reset")
@permission_required("jobs.manage")
def reset(key: str):
    rt = runtime()
    try:
        with rt.services.db.write() as s:
            entry = reset_schedule(s, code_jobs(), key)
    except JobNotFound:
        abort(404)
    except JobError as exc:
        flash(exc.message, "error")
        return redirect(url_for("jobs.detail", key=key))
    _changed()
    flash(f"已恢复默认执行时间 {entry.schedule} 并启用", "success")
    return redirect(url_for("jobs.detail", key=key))


@bp.post("/jobs/<key>/run")
@permission_required("jobs.manage")
def run_now(key: str):
    rt = runtime()
    try:
        read(lambda s: find(s, code_jobs(), key))
    except JobNotFound:
        abort(404)
    asked = cron_requests.request_run(rt.services.db, key, _who(), rt.services.now())
    flash(asked.message, "success" if asked.created else "warning")
    return redirect(request.form.get("next") or url_for("jobs.detail", key=key))


@bp.get("/jobs/preview")
@permission_required("jobs.view")
def preview():
    """The next five runs of a schedule being typed, for the edit form's live preview."""
    rt = runtime()
    try:
        runs = preview_runs(request.args.get("schedule", "")[:100], rt.settings.timezone, rt.services.now())
    except JobError as exc:
        return jsonify({"ok": False, "error": exc.errors.get("schedule") or exc.message})
    return jsonify({"ok": True, "runs": runs})
