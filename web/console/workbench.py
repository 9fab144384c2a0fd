"""工作台: the feature cards, each feature's task list (name, accounts or groups, 启用/停用, last
run, counts), the step-by-step 新建任务 wizard, 启用/停用/编辑/删除, the 社群推送 delivery report
per group and the 群打卡 rankings. Every task is an ordinary strategy (自动化策略管理 shows it)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from engine import workbench as service
from handlers.builtin.workbench_checkin import rankings as checkin_rankings
from handlers.builtin.workbench_group_push import delivery_report, push_runs
from rules.errors import NotFound, RulesError
from rules.templates import TEMPLATES, get_template
from rules.templates.families import family_of, governing
from rules.templates.moment_sync import SOP_SLOTS, TIMING, VISIBILITY
from rules.templates.schedule_fields import REPEATS, WEEKDAYS
from rules.templates.traffic_split import MODES, SOURCES, TARGET_KINDS
from web.auth.strategy_access import allowed_families, workbench_guard
from web.console.forms_common import error_map, read, write
from web.console.workbench_forms import choices, form_config
from web.extensions import runtime

bp = Blueprint("workbench", __name__)
OPTIONS = {"repeats": REPEATS, "weekdays": WEEKDAYS, "timing": TIMING, "visibility": VISIBILITY, "sop": SOP_SLOTS,
           "sources": SOURCES, "target_kinds": TARGET_KINDS, "modes": MODES,
           "like_scopes": {"all": "全部好友", "tags": "指定标签的好友", "named": "指定好友"},
           "member_sources": {"friend_tags": "按好友标签", "named": "指定好友", "customer_tags": "按客户标签（客户人群）"},
           "matches": {"contains": "包含", "exact": "完全匹配", "regex": "正则"},
           "scopes": {"both": "私聊和群聊", "private": "私聊", "group": "群聊"}}


def _template(key: str):
    try:
        return get_template(key)
    except NotFound:
        abort(404)


def _user() -> str:
    return g.user.username if g.get("user") is not None else ""


@bp.get("/workbench")
@workbench_guard("view")
def index():
    counts = read(service.counts_by_template)
    families = allowed_families(g.permissions)
    shown = {k: t for k, t in TEMPLATES.items() if family_of(k).key in families}
    return render_template("workbench/index.html", templates=shown, counts=counts)


@bp.get("/workbench/<key>")
@workbench_guard("view")
def tasks(key: str):
    template = _template(key)
    rows = read(lambda s: service.list_tasks(s, key))
    return render_template("workbench/list.html", template=template, rows=rows, names=read(choices),
                           can_manage=governing(key, "manage") in g.permissions)


def _wizard(template, strategy_id, values, errors, status=200):
    return render_template("workbench/wizard.html", template=template, strategy_id=strategy_id, values=values,
                           errors=errors, choices=read(choices), options=OPTIONS), status


def _save(template, strategy_id):
    config = form_config(template.key)
    rt = runtime()
    try:
        strategy = write(lambda s: service.save_task(s, template.key, config, rt.registry, rt.settings.timezone,
                                                      rt.services.now(), strategy_id=strategy_id, user=_user()))
    except RulesError as exc:
        return _wizard(template, strategy_id, config, error_map(exc), 400)
    if strategy_id:
        flash(f"任务「{strategy.name}」已保存", "success")
    else:
        flash(f"任务「{strategy.name}」已创建（未启用），确认无误后点击「启用」", "success")
    return redirect(url_for("workbench.tasks", key=template.key))


@bp.route("/workbench/<key>/new", methods=["GET", "POST"])
@workbench_guard("manage")
def new(key: str):
    template = _template(key)
    if request.method == "POST":
        return _save(template, None)
    return _wizard(template, None, dict(template.defaults), {})


@bp.route("/workbench/<key>/<int:strategy_id>/edit", methods=["GET", "POST"])
@workbench_guard("manage")
def edit(key: str, strategy_id: int):
    template = _template(key)
    try:
        strategy = read(lambda s: service.get_task(s, key, strategy_id))
    except RulesError:
        abort(404)
    if request.method == "POST":
        return _save(template, strategy_id)
    state = read(lambda s: service.wizard_state(s, strategy)) or {}
    return _wizard(template, strategy_id, {**template.defaults, **(state.get("config") or {})}, {})


@bp.post("/workbench/<key>/<int:strategy_id>/<any(enable, disable):action>")
@workbench_guard("manage")
def toggle(key: str, strategy_id: int, action: str):
    _template(key)
    try:
        result = write(lambda s: (service.get_task(s, key, strategy_id), service.set_tasks_enabled(s, [strategy_id], action == "enable"))[1])
    except RulesError:
        abort(404)
    if action == "enable":
        flash("任务已启用", "success")
    else:
        extra = f"，已取消 {result['cancelled_tasks']} 个待执行步骤" if result["cancelled_tasks"] else ""
        flash("任务已停用" + extra, "success")
    return redirect(url_for("workbench.tasks", key=key))


@bp.post("/workbench/<key>/<int:strategy_id>/delete")
@workbench_guard("manage")
def delete(key: str, strategy_id: int):
    _template(key)
    try:
        write(lambda s: (service.get_task(s, key, strategy_id), service.delete_task(s, strategy_id)))
    except RulesError:
        abort(404)
    flash("任务已删除", "success")
    return redirect(url_for("workbench.tasks", key=key))


@bp.get("/workbench/<any(group_push, reminder):key>/<int:strategy_id>/report")
@workbench_guard("view")
def report(key: str, strategy_id: int):
    try:
        strategy = read(lambda s: service.get_task(s, key, strategy_id))
    except RulesError:
        abort(404)
    runs = read(lambda s: push_runs(s, strategy_id))
    chosen = request.args.get("run") if request.args.get("run") in runs else (runs[0] if runs else None)
    data = read(lambda s: delivery_report(s, chosen)) if chosen else None
    return render_template("workbench/report.html", template=_template(key), strategy=strategy, runs=runs, run=chosen, report=data)


@bp.get("/workbench/checkin/<int:strategy_id>/rankings")
@workbench_guard("view", fixed_key="checkin")
def rankings(strategy_id: int):
    try:
        strategy = read(lambda s: service.get_task(s, "checkin", strategy_id))
    except RulesError:
        abort(404)
    state = read(lambda s: service.wizard_state(s, strategy)) or {}
    group_ids = [int(i) for i in (state.get("config") or {}).get("group_ids") or []]
    rows = [{**r, "rank": i} for i, r in enumerate(read(lambda s: checkin_rankings(s, group_ids or None)), start=1)]
    return render_template("workbench/rankings.html", template=_template("checkin"), strategy=strategy, rows=rows,
                           names=read(choices))
