"""UI 模板管理 (系统管理 › 系统建模): list and 查询 UI templates, add / edit / delete them — the list
columns (order, label, width, 可排序, 固定列), 编辑模板 and 查询模板 fields of 客户档案, and an optional
display template previewed for a sample customer. 客户详情TABS of type 「UI 模板编号」 show them."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from crm.customers import ui_templates as service
from crm.customers.fieldset import customer_fields
from crm.customers.tabs import SAMPLE_CUSTOMER
from crm.errors import CrmError, NotFound
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read
from web.extensions import services

bp = Blueprint("ui_templates", __name__)


@bp.get("/ui-templates")
@permission_required("ui_templates.manage")
def index():
    q = request.args.get("q", "").strip()[:100]
    return render_template("ui_templates/index.html", rows=read(lambda s: service.list_templates(s, q)), q=q)


def _form_data(fields: list[dict]) -> dict:
    f = request.form
    chosen = []
    for i, field in enumerate(fields):
        name = field["name"]
        if f.get(f"col_{name}"):
            try:
                position = int(f.get(f"pos_{name}") or i + 1)
            except ValueError:
                position = i + 1
            chosen.append((position, i, {"field": name, "label": f.get(f"lbl_{name}", ""), "width": f.get(f"w_{name}"),
                                         "sortable": bool(f.get(f"s_{name}")), "fixed": f.get(f"fx_{name}", "")}))
    return {"code": f.get("code", ""), "name": f.get("name", ""), "body": f.get("body", ""),
            "enabled": f.get("enabled", "1") == "1", "columns": [c for _p, _i, c in sorted(chosen, key=lambda x: x[:2])],
            "form_fields": [x["name"] for x in fields if f.get(f"form_{x['name']}")],
            "query_fields": [x["name"] for x in fields if f.get(f"query_{x['name']}")]}


def _page(row, values: dict, errors: dict, status: int = 200):
    fields = read(customer_fields)
    preview = None
    if row is not None and not errors:
        preview = Markup(service.render_for(row, SAMPLE_CUSTOMER))
    cols = {c["field"]: (i + 1, c) for i, c in enumerate(values.get("columns") or [])}
    return render_template("ui_templates/form.html", row=row, values=values, errors=errors, fields=fields, cols=cols,
                           preview=preview), status


def _save(fn, message: str):
    fields = read(customer_fields)
    values = _form_data(fields)
    try:
        with services().db.write() as s:
            row = fn(s, values)
    except CrmError as exc:
        return _page(None, values, error_map(exc), 400)
    flash(message.format(name=row.name), "success")
    return redirect(url_for("ui_templates.edit", template_id=row.id))


@bp.route("/ui-templates/new", methods=["GET", "POST"])
@permission_required("ui_templates.manage")
def new():
    if request.method == "POST":
        return _save(service.create_template, "已添加 UI 模板「{name}」")
    return _page(None, {"enabled": True, "columns": [], "form_fields": [], "query_fields": []}, {})


@bp.route("/ui-templates/<int:template_id>", methods=["GET", "POST"])
@permission_required("ui_templates.manage")
def edit(template_id: int):
    try:
        row = read(lambda s: service.get_template(s, template_id))
    except NotFound:
        abort(404)
    if request.method == "POST":
        return _save(lambda s, values: service.update_template(s, template_id, values), "已保存 UI 模板「{name}」")
    return _page(row, row.model_dump(), {})


@bp.post("/ui-templates/<int:template_id>/delete")
@permission_required("ui_templates.manage")
def delete(template_id: int):
    try:
        with services().db.write() as s:
            service.delete_template(s, template_id)
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(exc.message, "error")
        return redirect(url_for("ui_templates.index"))
    flash("已删除 UI 模板", "success")
    return redirect(url_for("ui_templates.index"))
