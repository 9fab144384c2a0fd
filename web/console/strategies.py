"""自动化策略管理: strategy groups on the left (添加/编辑/删除, drag to reorder), the selected
group's strategies on the right (启用/禁用, drag to reorder — the firing order —, delete).

The three-step editor lives in strategy_editor.py, versions and bundles in strategy_versions.py;
all register on this blueprint.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from sqlmodel import select

from engine import lifecycle
from events.models import EventDefinition
from rules import groups as group_service
from rules.errors import NotFound, RulesError
from rules.templates.families import hidden_templates
from web.auth.forms import form_value
from web.auth.guards import permission_required
from web.auth.strategy_access import require_strategies, strategy_guard
from web.console.forms_common import error_map, json_error, read, selected_ids, write
from web.extensions import runtime

bp = Blueprint("strategies", __name__)


def _overview(session, group_id: int | None) -> dict:
    groups = group_service.list_groups(session)
    current = next((g for g in groups if g.id == group_id), groups[0] if groups else None)
    rows = lifecycle.list_strategies(session, current.id, hidden_templates=hidden_templates(g.permissions)) if current else []
    events = {e.id: e for e in session.exec(select(EventDefinition))}
    return {"groups": groups, "current": current, "rows": rows, "events": events, "now": runtime().services.now()}


@bp.get("/strategies")
@permission_required("strategies.view")
def index():
    group_id = request.args.get("group", type=int)
    data = read(lambda s: _overview(s, group_id))
    if group_id and (data["current"] is None or data["current"].id != group_id):
        abort(404)
    return render_template("strategies/index.html", **data)


def _back(group_id=None):
    return redirect(url_for("strategies.index", group=group_id) if group_id else url_for("strategies.index"))


@bp.post("/strategies/groups")
@permission_required("strategies.manage")
def create_group():
    try:
        group = write(lambda s: group_service.create_group(s, form_value("name")))
    except RulesError as exc:
        flash("添加策略组失败：" + "；".join(m for ms in error_map(exc).values() for m in ms), "error")
        return _back()
    flash(f"已添加策略组「{group.name}」", "success")
    return _back(group.id)


@bp.post("/strategies/groups/<int:group_id>/rename")
@permission_required("strategies.manage")
def rename_group(group_id: int):
    try:
        group = write(lambda s: group_service.rename_group(s, group_id, form_value("name")))
    except NotFound:
        abort(404)
    except RulesError as exc:
        flash("重命名失败：" + "；".join(m for ms in error_map(exc).values() for m in ms), "error")
        return _back(group_id)
    flash(f"已重命名为「{group.name}」", "success")
    return _back(group_id)


@bp.post("/strategies/groups/<int:group_id>/delete")
@permission_required("strategies.manage")
def delete_group(group_id: int):
    try:
        write(lambda s: group_service.delete_group(s, group_id))
    except NotFound:
        abort(404)
    except RulesError as exc:
        flash(exc.message, "error")
        return _back(group_id)
    flash("已删除策略组", "success")
    return _back()


@bp.post("/strategies/groups/reorder")
@permission_required("strategies.manage")
def reorder_groups():
    ids = selected_ids("order")
    try:
        write(lambda s: group_service.reorder_groups(s, ids))
    except RulesError as exc:
        return json_error(exc)
    return jsonify({"order": ids})


@bp.post("/strategies/reorder")
@permission_required("strategies.manage")
def reorder():
    group_id, ids = request.args.get("group", type=int) or 0, selected_ids("order")
    try:
        write(lambda s: lifecycle.reorder_strategies(s, group_id, ids))
    except RulesError as exc:
        return json_error(exc)
    return jsonify({"order": ids})


@bp.post("/strategies/pending-count")
@permission_required("strategies.view")
def pending_count():
    ids = selected_ids()
    return jsonify({"pending": read(lambda s: lifecycle.pending_task_count(s, ids)) if ids else 0})


@bp.post("/strategies/enable")
@permission_required("strategies.manage")
def set_enabled():
    ids, enabled = selected_ids(), request.form.get("enabled") == "1"
    group_id = request.form.get("group", type=int)
    if not ids:
        flash("请先勾选策略", "warning")
        return _back(group_id)
    require_strategies(ids, "manage")
    try:
        result = write(lambda s: lifecycle.set_enabled(s, ids, enabled))
    except NotFound:
        abort(404)
    if enabled:
        flash(f"已启用 {result['changed']} 条策略，事件接入后即按条件匹配", "success")
    else:
        extra = f"，取消了 {result['cancelled_tasks']} 个待执行任务" if result["cancelled_tasks"] else ""
        flash(f"已禁用 {result['changed']} 条策略{extra}", "success")
    return _back(group_id)


@bp.post("/strategies/<int:strategy_id>/delete")
@permission_required("strategies.manage")
@strategy_guard("manage")
def delete(strategy_id: int):
    group_id = request.form.get("group", type=int)
    try:
        cancelled = write(lambda s: lifecycle.delete_strategy(s, strategy_id))
    except NotFound:
        abort(404)
    flash("已删除策略" + (f"，取消了 {cancelled} 个待执行任务" if cancelled else ""), "success")
    return _back(group_id)


# The editor, versions and bundles add their routes to `bp`.
from web.console import strategy_editor, strategy_versions  # noqa: E402,F401
from web.console import strategy_builtin  # noqa: E402,F401 - 导入内置策略 (seed 001)
