"""事件注册中心: the events apps may post, each with its typed fields (the properties strategy
conditions test and processors fill into ${变量})."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from engine.impact import definition_change_impact, strategies_using_event
from events import definitions as service
from events.errors import EventsError, NotFound
from events.models import FIELD_TYPE_LABELS, FIELD_TYPES
from web.auth.forms import form_value
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read, selected_ids, write
from web.extensions import runtime

bp = Blueprint("events", __name__)
FIELD_TYPE_CHOICES = [(t, FIELD_TYPE_LABELS[t]) for t in FIELD_TYPES]


@bp.get("/events")
@permission_required("events.view")
def index():
    q = request.args.get("q", "").strip()
    rows = read(lambda s: service.list_definitions(s, q))
    return render_template("events/list.html", rows=rows, q=q, type_labels=FIELD_TYPE_LABELS)


def _form_data() -> dict:
    """The posted definition; the field table posts parallel lists, blank rows are dropped."""
    names, types = request.form.getlist("field_name"), request.form.getlist("field_type")
    labels, required = request.form.getlist("field_label"), request.form.getlist("field_required")
    remarks = request.form.getlist("field_remark")
    fields = []
    for i, name in enumerate(names):
        row = {"name": name.strip(), "type": types[i] if i < len(types) else "text",
               "label": (labels[i] if i < len(labels) else "").strip(),
               "required": (required[i] if i < len(required) else "0") == "1",
               "remark": (remarks[i] if i < len(remarks) else "").strip()}
        if row["name"] or row["label"] or row["remark"]:
            fields.append(row)
    return {"name": form_value("name"), "code": form_value("code"), "remark": form_value("remark"),
            "enabled": request.form.get("enabled", "1") == "1", "fields": fields}


def _render_form(definition, values: dict, errors: dict, impact=None, status: int = 200):
    return render_template("events/form.html", definition=definition, values=values, errors=errors,
                           impact=impact or [], type_choices=FIELD_TYPE_CHOICES), status


@bp.route("/events/new", methods=["GET", "POST"])
@permission_required("events.manage")
def new():
    values = {"name": "", "code": "", "remark": "", "enabled": True, "fields": []}
    if request.method == "POST":
        values = _form_data()
        try:
            row = write(lambda s: service.create_definition(s, values))
        except EventsError as exc:
            return _render_form(None, values, error_map(exc), status=400)
        flash(f"已注册事件「{row.name}」", "success")
        return redirect(url_for("events.index"))
    return _render_form(None, values, {})


@bp.route("/events/<int:definition_id>/edit", methods=["GET", "POST"])
@permission_required("events.manage")
def edit(definition_id: int):
    try:
        definition = read(lambda s: service.get_definition(s, definition_id))
    except NotFound:
        abort(404)
    values = {"name": definition.name, "code": definition.code, "remark": definition.remark,
              "enabled": definition.enabled, "fields": definition.fields or []}
    if request.method == "GET":
        return _render_form(definition, values, {})
    values = _form_data()
    if request.form.get("confirm") != "1":
        # Edits that would break enabled strategies are shown first and saved only on confirm.
        impact = read(lambda s: definition_change_impact(s, definition_id, values["fields"], runtime().registry))
        if impact:
            return _render_form(definition, values, {}, impact=impact, status=409)
    try:
        write(lambda s: service.update_definition(s, definition_id, values))
    except EventsError as exc:
        return _render_form(definition, values, error_map(exc), status=400)
    flash(f"已保存事件「{values['name']}」", "success")
    return redirect(url_for("events.index"))


@bp.post("/events/<int:definition_id>/delete")
@permission_required("events.manage")
def delete(definition_id: int):
    users = read(lambda s: strategies_using_event(s, definition_id))
    if users:
        names = "、".join(f"「{u['name']}」" for u in users[:5]) + (" 等" if len(users) > 5 else "")
        flash(f"该事件正被 {len(users)} 条策略使用（{names}），不能删除；请先删除或改用其他事件", "error")
        return redirect(url_for("events.index"))
    try:
        write(lambda s: service.delete_definition(s, definition_id))
    except NotFound:
        abort(404)
    flash("已删除事件", "success")
    return redirect(url_for("events.index"))


@bp.post("/events/batch")
@permission_required("events.manage")
def batch():
    ids, action = selected_ids(), request.form.get("action", "")
    if not ids:
        flash("请先勾选事件", "warning")
        return redirect(url_for("events.index"))
    try:
        if action in ("enable", "disable"):
            count = write(lambda s: service.set_enabled(s, ids, action == "enable"))
            flash(f"已{'启用' if action == 'enable' else '禁用'} {count} 个事件", "success")
        elif action == "copy":
            copies = write(lambda s: service.copy_definitions(s, ids))
            flash(f"已复制 {len(copies)} 个事件（名称加“-副本”，代码加随机后缀）", "success")
        else:
            abort(400, description="未知的批量操作")
    except NotFound as exc:
        flash(exc.message, "error")
    return redirect(url_for("events.index"))


@bp.post("/events/import-builtin")
@permission_required("events.manage")
def import_builtin():
    result = write(lambda s: service.import_builtin(s))
    created, skipped = result["created"], result["skipped"]
    if created:
        flash(f"已导入 {len(created)} 个内置事件：{'、'.join(created)}", "success")
    if skipped:
        flash(f"{len(skipped)} 个内置事件已存在，未重复导入", "info")
    return redirect(url_for("events.index"))
