"""系统建模: 数据结构定义 (custom customer fields), 枚举管理 (choice lists) and 客户详情TABS
(extra tabs on the customer detail page)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from crm.customers import enums, fields, tabs
from crm.customers.models import CUSTOM_FIELD_TYPES
from crm.errors import CrmError, NotFound
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read
from web.extensions import services

bp = Blueprint("modeling", __name__)


def _save(fn, ok_message: str, endpoint: str, template: str, context: dict):
    try:
        with services().db.write() as s:
            fn(s)
    except NotFound:
        abort(404)
    except CrmError as exc:
        return render_template(template, errors=error_map(exc), values=request.form, **context), 400
    flash(ok_message, "success")
    return redirect(url_for(endpoint))


# ---- 数据结构定义 ---------------------------------------------------------------------------
def _field_context(field=None) -> dict:
    return {"field": field, "types": [(t, fields.TYPE_LABELS[t]) for t in CUSTOM_FIELD_TYPES],
            "enum_choices": [(e.id, e.name) for e in read(enums.list_enums)]}


@bp.get("/modeling/fields", endpoint="fields")
@permission_required("fields.manage")
def fields_index():
    rows = read(fields.list_fields)
    enum_names = {e.id: e.name for e in read(enums.list_enums)}
    return render_template("modeling/fields.html", rows=rows, enum_names=enum_names, type_labels=fields.TYPE_LABELS)



@bp.route("/modeling/fields/new", methods=["GET", "POST"])
@permission_required("fields.manage")
def field_new():
    if request.method == "POST":
        data = request.form.to_dict()
        return _save(lambda s: fields.create_field(s, data), f"已添加字段「{data.get('label', '')}」（已建立索引）",
                     "modeling.fields", "modeling/field_form.html", _field_context())
    return render_template("modeling/field_form.html", errors={}, values={"type": "text"}, **_field_context())


@bp.route("/modeling/fields/<int:field_id>", methods=["GET", "POST"])
@permission_required("fields.manage")
def field_edit(field_id: int):
    try:
        field = read(lambda s: fields.get_field(s, field_id))
    except NotFound:
        abort(404)
    if request.method == "POST":
        data = request.form.to_dict()
        return _save(lambda s: fields.update_field(s, field_id, data), "已保存字段", "modeling.fields",
                     "modeling/field_form.html", _field_context(field))
    values = {"key": field.key, "label": field.label, "type": field.type, "enum_id": field.enum_id or "",
              "required": field.required, "show_in_list": field.show_in_list, "position": field.position}
    return render_template("modeling/field_form.html", errors={}, values=values, **_field_context(field))


@bp.post("/modeling/fields/<int:field_id>/delete")
@permission_required("fields.manage")
def field_delete(field_id: int):
    try:
        with services().db.write() as s:
            fields.delete_field(s, field_id)
    except NotFound:
        abort(404)
    flash("已删除字段及其索引和数据", "success")
    return redirect(url_for("modeling.fields"))


# ---- 枚举管理 -------------------------------------------------------------------------------
@bp.get("/modeling/enums", endpoint="enums")
@permission_required("fields.manage")
def enums_index():
    return render_template("modeling/enums.html", rows=read(enums.list_enums))



def _enum_values(row) -> dict:
    return {"code": row.code, "name": row.name,
            "items": "\n".join(f"{i['value']}={i['label']}" for i in row.items or [])}


@bp.route("/modeling/enums/new", methods=["GET", "POST"])
@permission_required("fields.manage")
def enum_new():
    if request.method == "POST":
        data = request.form.to_dict()
        return _save(lambda s: enums.create_enum(s, data), f"已添加枚举「{data.get('name', '')}」", "modeling.enums",
                     "modeling/enum_form.html", {"enum": None})
    return render_template("modeling/enum_form.html", errors={}, values={}, enum=None)


@bp.route("/modeling/enums/<int:enum_id>", methods=["GET", "POST"])
@permission_required("fields.manage")
def enum_edit(enum_id: int):
    try:
        row = read(lambda s: enums.get_enum(s, enum_id))
    except NotFound:
        abort(404)
    if request.method == "POST":
        data = request.form.to_dict()
        return _save(lambda s: enums.update_enum(s, enum_id, data), "已保存枚举", "modeling.enums",
                     "modeling/enum_form.html", {"enum": row})
    return render_template("modeling/enum_form.html", errors={}, values=_enum_values(row), enum=row)


@bp.post("/modeling/enums/<int:enum_id>/delete")
@permission_required("fields.manage")
def enum_delete(enum_id: int):
    try:
        with services().db.write() as s:
            enums.delete_enum(s, enum_id)
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("modeling.enums"))
    flash("已删除枚举", "success")
    return redirect(url_for("modeling.enums"))


# ---- 客户详情TABS ----------------------------------------------------------------------------
@bp.get("/modeling/tabs", endpoint="tabs")
@permission_required("detail_tabs.manage")
def tabs_index():
    return render_template("modeling/tabs.html", rows=read(tabs.list_tabs), kinds=tabs.TAB_KINDS)



@bp.route("/modeling/tabs/new", methods=["GET", "POST"])
@permission_required("detail_tabs.manage")
def tab_new():
    if request.method == "POST":
        data = request.form.to_dict()
        return _save(lambda s: tabs.create_tab(s, data), f"已添加页签「{data.get('name', '')}」", "modeling.tabs",
                     "modeling/tab_form.html", {"tab": None, "kinds": tabs.TAB_KINDS})
    return render_template("modeling/tab_form.html", errors={}, values={"kind": "url", "enabled": True}, tab=None,
                           kinds=tabs.TAB_KINDS)


@bp.route("/modeling/tabs/<int:tab_id>", methods=["GET", "POST"])
@permission_required("detail_tabs.manage")
def tab_edit(tab_id: int):
    try:
        row = read(lambda s: tabs.get_tab(s, tab_id))
    except NotFound:
        abort(404)
    if request.method == "POST":
        data = request.form.to_dict()
        return _save(lambda s: tabs.update_tab(s, tab_id, data), "已保存页签", "modeling.tabs",
                     "modeling/tab_form.html", {"tab": row, "kinds": tabs.TAB_KINDS})
    values = {"name": row.name, "kind": row.kind, "content": row.content, "position": row.position,
              "enabled": row.enabled}
    return render_template("modeling/tab_form.html", errors={}, values=values, tab=row, kinds=tabs.TAB_KINDS)


@bp.post("/modeling/tabs/<int:tab_id>/delete")
@permission_required("detail_tabs.manage")
def tab_delete(tab_id: int):
    try:
        with services().db.write() as s:
            tabs.delete_tab(s, tab_id)
    except NotFound:
        abort(404)
    flash("已删除页签", "success")
    return redirect(url_for("modeling.tabs"))
