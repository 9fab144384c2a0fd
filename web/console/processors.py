"""处理器注册中心: the built-in processors (read-only: their configuration form is shown) and the
HTTP processors operators register themselves (URL, method, parameters with ${变量}, body)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from handlers import definitions as service
from handlers.builtin.http import METHODS
from web.auth.forms import form_value
from web.auth.guards import permission_required
from web.console.forms_common import error_map
from web.extensions import runtime

bp = Blueprint("processors", __name__)
KIND_LABELS = {"text": "文本", "textarea": "多行文本", "number": "数值", "select": "下拉选择", "boolean": "是/否",
               "keyvalue": "键值对", "json": "JSON"}


@bp.get("/processors")
@permission_required("processors.view")
def index():
    rt = runtime()
    return render_template("processors/list.html", builtins=rt.registry.list_builtin(),
                           customs=service.list_definitions(rt.services.db))


@bp.get("/processors/builtin/<key>")
@permission_required("processors.view")
def builtin(key: str):
    info = next((p for p in runtime().registry.list_builtin() if p["key"] == key), None) or abort(404)
    return render_template("processors/builtin.html", p=info, kind_labels=KIND_LABELS)


def _pairs(prefix: str, keys: tuple[str, ...]) -> list[dict]:
    """Parallel lists posted by a row table → rows; rows left entirely blank are dropped."""
    columns = {k: request.form.getlist(f"{prefix}_{k}") for k in keys}
    rows = []
    for i in range(len(columns[keys[0]])):
        row = {k: (columns[k][i] if i < len(columns[k]) else "") for k in keys}
        if any(str(v).strip() for k, v in row.items() if k != "fixed"):
            rows.append(row)
    return rows


def _form_data() -> dict:
    params = [{"name": r["name"].strip(), "value": r["value"], "remark": r["remark"].strip(), "fixed": r["fixed"] == "1"}
              for r in _pairs("param", ("name", "value", "remark", "fixed"))]
    headers = [{"name": r["name"].strip(), "value": r["value"]} for r in _pairs("header", ("name", "value"))]
    return {"name": form_value("name"), "url": form_value("url"), "method": form_value("method", "POST"),
            "remark": request.form.get("remark", ""), "timeout_seconds": form_value("timeout_seconds", "10"),
            "enabled": request.form.get("enabled", "1") == "1", "params": params, "headers": headers,
            "body": request.form.get("body", ""), "retry_schedule": form_value("retry_schedule", "")}


def _render_form(definition, values: dict, errors: dict, status: int = 200):
    return render_template("processors/form.html", definition=definition, values=values, errors=errors,
                           methods=METHODS, default_retry_schedule=runtime().settings.retry_schedule), status


@bp.route("/processors/new", methods=["GET", "POST"])
@permission_required("processors.manage")
def new():
    values = dict(service.DEFAULTS, name="", url="")
    if request.method == "POST":
        values = _form_data()
        try:
            row = service.create_definition(runtime().services.db, values)
        except service.DefinitionError as exc:
            return _render_form(None, values, error_map(exc), 400)
        runtime().invalidate()
        flash(f"已注册处理器「{row.name}」，配置策略时即可选择", "success")
        return redirect(url_for("processors.index"))
    return _render_form(None, values, {})


@bp.route("/processors/<int:definition_id>/edit", methods=["GET", "POST"])
@permission_required("processors.manage")
def edit(definition_id: int):
    rt = runtime()
    try:
        definition = service.get_definition(rt.services.db, definition_id)
    except service.DefinitionNotFound:
        abort(404)
    values = {f: getattr(definition, f) for f in service.EDITABLE}
    if request.method == "POST":
        values = _form_data()
        try:
            service.update_definition(rt.services.db, definition_id, values, rt.registry)
        except service.DefinitionError as exc:
            return _render_form(definition, values, error_map(exc), 400)
        rt.invalidate()
        flash(f"已保存处理器「{values['name']}」", "success")
        return redirect(url_for("processors.index"))
    return _render_form(definition, values, {})


@bp.post("/processors/<int:definition_id>/delete")
@permission_required("processors.manage")
def delete(definition_id: int):
    rt = runtime()
    try:
        service.delete_definition(rt.services.db, definition_id, rt.registry)
    except service.DefinitionNotFound:
        abort(404)
    rt.invalidate()
    flash("已删除处理器；仍引用它的策略步骤将执行失败，请检查相关策略", "success")
    return redirect(url_for("processors.index"))
