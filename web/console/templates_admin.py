"""消息模板管理: SMS and e-mail templates with ${变量} (customer fields), list / create / edit /
delete, and a live preview rendered for a real or sample customer."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from crm.errors import CrmError, NotFound
from crm.sales import templates as service
from events.definitions import list_definitions
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, json_error, read
from web.console.masking_filters import mask_list
from web.console.worktasks_forms import save, tz

bp = Blueprint("templates", __name__)


@bp.get("/message-templates")
@permission_required("templates.manage")
def index():
    channel = request.args.get("channel") or None
    rows = read(lambda s: service.list_templates(s, channel if channel in service.CHANNELS else None))
    return render_template("templates_admin/list.html", rows=rows, channel=channel, channels=service.CHANNELS)


def _form() -> dict:
    f = request.form
    return {"code": f.get("code", ""), "name": f.get("name", ""), "channel": f.get("channel", "sms"),
            "subject": f.get("subject", ""), "body": f.get("body", ""), "enabled": f.get("enabled", "1") == "1",
            "event_code": f.get("event_code", "")}


def _page(tpl, values, errors, status=200):
    variables = read(lambda s: service.variable_names(s, values.get("event_code") or ""))
    events = read(lambda s: [("", "不使用（只用客户字段）")] + [(d.code, f"{d.name}（{d.code}）") for d in list_definitions(s)])
    return render_template("templates_admin/form.html", tpl=tpl, values=values, errors=errors,
                           variables=variables, channels=service.CHANNELS, events=events), status


@bp.route("/message-templates/new", methods=["GET", "POST"])
@permission_required("templates.manage")
def new():
    if request.method == "POST":
        values = _form()
        try:
            tpl = save(lambda s: service.create_template(s, values))
        except CrmError as exc:
            return _page(None, values, error_map(exc), 400)
        flash(f"已创建模板「{tpl.name}」", "success")
        return redirect(url_for("templates.index"))
    return _page(None, {"channel": request.args.get("channel", "sms"), "enabled": True}, {})


@bp.route("/message-templates/<int:template_id>", methods=["GET", "POST"])
@permission_required("templates.manage")
def edit(template_id: int):
    try:
        tpl = read(lambda s: service.get_template(s, template_id))
    except NotFound:
        abort(404)
    if request.method == "POST":
        values = _form()
        try:
            save(lambda s: service.update_template(s, template_id, values))
        except CrmError as exc:
            return _page(tpl, values, error_map(exc), 400)
        flash("模板已保存", "success")
        return redirect(url_for("templates.index"))
    return _page(tpl, tpl.model_dump(), {})


@bp.post("/message-templates/<int:template_id>/delete")
@permission_required("templates.manage")
def delete(template_id: int):
    try:
        save(lambda s: service.delete_template(s, template_id))
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(exc.message, "error")
        return redirect(url_for("templates.index"))
    flash("模板已删除", "success")
    return redirect(url_for("templates.index"))


@bp.post("/message-templates/preview")
@permission_required("templates.manage")
def preview():
    """JSON for the editor's 预览 button: the rendered subject/body for a sample customer."""
    body = request.get_json(silent=True) or request.form.to_dict()
    try:
        customer_id = int(body.get("customer_id") or 0) or None
        out = read(lambda s: service.preview(s, body, customer_id, tz(), viewer=current_viewer()))
    except (TypeError, ValueError):
        return json_error(CrmError("客户编号无效"))
    except NotFound as exc:  # unknown, or not a customer this user may see: the same answer
        return json_error(exc, 404)
    except CrmError as exc:
        return json_error(exc)
    # The rendered text may contain the customer's number: lists-level masking applies.
    return jsonify({"subject": mask_list(out["subject"]), "body": mask_list(out["body"]),
                    "customer": out["customer"]})
