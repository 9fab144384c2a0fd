"""客户档案 actions of seed 001: 短信推送 to ticked customers (图 78: template, its variables, preview,
send, a per-customer report) and the customer detail's 日常操作 — 打电话 (dial with tel: and log the
call as a 跟进记录), 发短信 (the same 短信推送 for one customer) and 打标签 (manual and personal tags).
Every customer goes through crm.scope: another salesperson's customer is dropped or 404."""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from config.clock import utcnow
from crm.customers.models import Customer
from crm.errors import CrmError, NotFound
from crm.sales import followups, sms_push
from crm.sales.templates import customer_data, render_for, sender_variables
from crm.scope import load
from crm.tags.apply import apply_tags, remove_tags
from engine import sms_push as sender
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, read, selected_ids
from web.console.masking_filters import mask_list
from web.extensions import runtime, services
from web.input_limits import int_values

bp = Blueprint("customer_actions", __name__)
CALL_RESULTS = {"following": "已接通，继续跟进", "intent": "已接通，有意向", "deal": "已接通，已成交",
                "invalid": "空号/无效"}


def _ids() -> list[int]:
    return selected_ids("ids") if request.method == "POST" else int_values(request.args.getlist("ids"))


def _compose(ids: list[int], errors: dict | None = None, status: int = 200):
    form = request.form if request.method == "POST" else request.args
    tz = services().settings.timezone
    token = form.get("push") or ""
    if not sms_push.TOKEN_RE.match(token):  # chosen once per dialog: 发送 twice sends once
        token = uuid.uuid4().hex
    raw = {k[4:]: v for k, v in form.items() if k.startswith("var_")}

    def load_page(s):
        customers = sms_push.selected(s, current_viewer(), ids)
        templates = sms_push.sms_templates(s)
        chosen = next((t for t in templates if str(t.id) == str(form.get("template_id") or "")), None)
        variables = sender_variables(s, chosen) if chosen else []
        preview = ""
        # The preview shows someone who will get the text: the first with a mobile.
        shown = next((c for c in customers if c.mobile), customers[0])
        if chosen is not None:
            sample = {v["name"]: raw.get(v["name"]) or f"【{v['name']}】" for v in variables}
            try:
                preview = render_for(chosen, {**sample, **customer_data(s, shown, tz)})["body"]
            except CrmError as exc:
                preview = exc.message
        return {"customers": customers, "templates": templates, "chosen": chosen, "variables": variables,
                "preview": mask_list(preview), "shown": shown}

    try:
        page = read(load_page)
    except CrmError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("customers.index"))
    return render_template("customers/sms_push.html", token=token, raw=raw, errors=errors or {}, sender_name=g.user.display_name or g.user.username,
                           **page), status


@bp.route("/customers/sms-push", methods=["GET", "POST"])
@permission_required("customers.manage")
def compose():
    """The 短信推送 dialog (图 78) for the ticked customers; 预览 posts back here."""
    return _compose(_ids())


@bp.post("/customers/sms-push/send")
@permission_required("customers.manage")
def send():
    ids, form = selected_ids("ids"), request.form
    raw = {k[4:]: v for k, v in form.items() if k.startswith("var_")}
    try:
        token = sms_push.check_token(form.get("push"))
    except NotFound:
        abort(404)
    rt = runtime()
    if sender.exists(rt, token):  # sent already (a double click, a re-post): show it, send nothing twice
        return redirect(url_for("customer_actions.report", token=token))
    try:
        prepared = read(lambda s: sms_push.prepare(s, current_viewer(), ids, form.get("template_id"), raw,
                                                   rt.services.settings.timezone))
    except CrmError as exc:
        return _compose(ids, error_map(exc), 400)
    report = sender.send(rt, prepared, token, g.user.id)
    return render_template("customers/sms_push_report.html", report=report, template=prepared.template)


@bp.get("/customers/sms-push/<token>")
@permission_required("customers.manage")
def report(token: str):
    try:
        token = sms_push.check_token(token)
    except NotFound:
        abort(404)
    result = sender.report_of(runtime(), token, current_viewer())
    if not result.rows:
        abort(404)
    return render_template("customers/sms_push_report.html", report=result, template=None)


def _back(customer_id: int, anchor: str = "basic"):
    return redirect(url_for("customers.show", customer_id=customer_id, _anchor=anchor))


@bp.post("/customers/<int:customer_id>/call")
@permission_required("worktasks.manage")
def log_call(customer_id: int):
    """打电话: the number was dialled from the page (tel:); what came of it becomes a 跟进记录."""
    f = request.form
    data = {"customer_id": customer_id, "way": "phone", "status": f.get("status") or "following",
            "content": (f.get("content") or "").strip() or f"拨打电话：{CALL_RESULTS.get(f.get('status'), '')}",
            "maturity": f.get("maturity") or 0, "followed_at": utcnow()}
    svc = services()
    try:
        with svc.db.write() as s:
            followups.record_follow_up(s, data, g.user.id, tz=svc.settings.timezone, viewer=current_viewer())
    except CrmError as exc:
        if "customer_id" in (exc.errors or {}):
            abort(404)
        flash(exc.message, "danger")
        return _back(customer_id)
    flash("通话已记录到跟进记录", "success")
    return _back(customer_id, "followups")


def _own_customer(s, customer_id: int) -> Customer:
    return load(s, current_viewer(), Customer, customer_id)


@bp.post("/customers/<int:customer_id>/tags")
@permission_required("tags.apply")
def add_tags(customer_id: int):
    """打标签 on the detail page: manual and the user's own personal tags (auto tags are the rules')."""
    svc, tag_ids = services(), int_values(request.form.getlist("tag_ids"))
    try:
        with svc.db.write() as s:
            _own_customer(s, customer_id)
            if not tag_ids:
                raise CrmError("请选择标签")
            apply_tags(s, [customer_id], tag_ids, g.user.id, source="manual", tz=svc.settings.timezone)
    except NotFound as exc:
        if "tag_ids" not in (exc.errors or {}):
            abort(404)
        flash(exc.message, "danger")
    except CrmError as exc:
        flash(exc.message + "".join(f"：{v}" for v in (exc.errors or {}).values()), "danger")
    else:
        flash("已打标签", "success")
    return _back(customer_id)


@bp.post("/customers/<int:customer_id>/tags/<int:tag_id>/remove")
@permission_required("tags.apply")
def remove_tag(customer_id: int, tag_id: int):
    svc = services()
    try:
        with svc.db.write() as s:
            _own_customer(s, customer_id)
            remove_tags(s, [customer_id], [tag_id], g.user.id, source="manual", tz=svc.settings.timezone)
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(exc.message, "danger")
    else:
        flash("已移除标签", "success")
    return _back(customer_id)
