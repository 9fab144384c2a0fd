"""参数配置: the runtime parameters by group, where each value comes from, 恢复默认, and the change log."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from config.parameter_store import ParametersInvalid
from config.parameter_values import form_text, kind, shown
from config.parameters import BY_KEY, GROUP_LABELS, GROUPS
from web.auth.guards import permission_required
from web.extensions import services

bp = Blueprint("params", __name__)
CHANGES_PER_PAGE = 50


@bp.app_context_processor
def _initial_password():
    """Password fields may be left empty when an 初始密码 is set (users, org pages)."""
    return {"initial_password_set": bool(services().settings.initial_password)}


def _overlay():
    return services().parameters


def _actor() -> str:
    return (g.user.display_name or g.user.username)[:100]


def _jobs_url():
    """任务调度 owns every cron time; link there only when that page is part of this build."""
    from flask import current_app

    return url_for("jobs.index") if "jobs.index" in current_app.view_functions else None


def _page(group: str, errors: dict, submitted: dict, status: int = 200):
    views = _overlay().views()
    quiet = next(v for v in views if v.param.key == "budget_quiet_hours")
    rows = [dict(view=v, kind=kind(v.param.key), shown=shown(v.param, v.value),
                 text=submitted.get(v.param.key, form_text(v.param, v.value)) if not v.param.secret else "",
                 error=errors.get(v.param.key))
            for v in views if v.param.group == group]
    return render_template("params/index.html", groups=GROUPS, group=group, rows=rows, errors=errors,
                           quiet=quiet, jobs_url=_jobs_url(), group_label=GROUP_LABELS[group]), status


@bp.get("/params")
@permission_required("params.manage")
def index():
    group = request.args.get("group", GROUPS[0][0])
    if group not in GROUP_LABELS:
        abort(404)
    return _page(group, {}, {})


@bp.post("/params/<group>")
@permission_required("params.manage")
def save(group: str):
    if group not in GROUP_LABELS:
        abort(404)
    try:
        changed = _overlay().save(group, request.form.to_dict(), _actor())
    except ParametersInvalid as exc:
        submitted = {k: v for k, v in request.form.items() if k in BY_KEY and not BY_KEY[k].secret}
        return _page(group, exc.errors, submitted, 400)
    if changed:
        names = "、".join(BY_KEY[k].label for k in changed)
        flash(f"已保存{GROUP_LABELS[group]}参数：{names}（立即生效）", "success")
    else:
        flash("没有修改任何参数", "info")
    return redirect(url_for("params.index", group=group))


@bp.post("/params/<key>/reset")
@permission_required("params.manage")
def reset(key: str):
    param = BY_KEY.get(key) or abort(404)
    if _overlay().reset(key, _actor()):
        flash(f"「{param.label}」已恢复默认（使用环境变量或内置默认值）", "success")
    else:
        flash(f"「{param.label}」未在此处设置过，无需恢复", "info")
    return redirect(url_for("params.index", group=param.group) + f"#p-{key}")


@bp.get("/params/changes")
@permission_required("params.manage")
def changes():
    key = request.args.get("key", "")
    if key and key not in BY_KEY:
        abort(404)
    before = request.args.get("before", type=int)
    found = _overlay().changes(CHANGES_PER_PAGE + 1, key, before)
    rows = [(c, BY_KEY.get(c.key)) for c in found[:CHANGES_PER_PAGE]]
    older = url_for("params.changes", key=key or None, before=found[CHANGES_PER_PAGE - 1].id) \
        if len(found) > CHANGES_PER_PAGE else None
    return render_template("params/changes.html", rows=rows, key=key, param=BY_KEY.get(key),
                           group_labels=GROUP_LABELS, limit=CHANGES_PER_PAGE, older=older, paged=bool(before))
