"""线索列表 and 线索详情: every lead from every scene, filtered by status, channel, scene, assignee,
period, tags or a keyword; ticked leads can be assigned to a salesperson or a team at once.
The detail page shows what the lead submitted (and the raw platform data), which customer it
turned out to be, its tags, who it was assigned to and when, and the processing log step by
step; there the operator moves its status on, writes notes and assigns or re-assigns it.

Mobile numbers and e-mails are masked for users without 查看完整手机号 (pii.view)."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import col, select

from config.pii import mask_value
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups.models import CustomerGroup
from crm.leads import service
from crm.leads.assignment import manual_assign
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.fields import STANDARD_FIELDS
from crm.leads.logs import STAGE_LABELS
from crm.leads.models import LEAD_STATUSES, LeadAssignment, LeadChannel, LeadLog, LeadScene
from crm.people.models import User
from crm import scope
from crm.tags.models import Tag
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, pages, parse_local, query_args, read, selected_ids
from web.extensions import services
from web.input_limits import optional_int, page_number

bp = Blueprint("leads", __name__)

PER_PAGE = 20
FILTERS = ("status", "channel", "scene", "assignee", "start", "end", "q", "sort")
SORTS = {"-created_at": ("created_at", "desc", "最新在前"), "created_at": ("created_at", "asc", "最早在前"),
         "-value": ("value", "desc", "线索价值从高到低"), "-updated_at": ("updated_at", "desc", "最近更新在前")}
STATUS_TONES = {"NEW": "blue", "QUALIFIED": "green", "DISQUALIFIED": "gray", "ASSIGNED": "purple",
                "PROCESSING": "amber", "CONVERTED": "green", "CLOSED": "gray"}
METHOD_LABELS = {"manual": "手动分配", "round_robin": "轮询", "random": "随机", "weighted": "按权重", "load": "按负载",
                 "region": "按地区", "skill": "按标签/技能", "value": "按线索价值", "backup": "备用销售",
                 "owner": "沿用客户负责人"}
MAX_BULK = 200


def _masked() -> bool:
    return "pii.view" not in g.permissions


def _actor() -> str:
    return g.user.display_name or g.user.username


def _choices(session) -> dict:
    """Pickers by name (never numeric ids): users, teams, scenes, channels, tags."""
    users = session.exec(select(User).where(User.enabled == True).order_by(User.id)).all()  # noqa: E712
    return {"users": [(u.id, u.display_name or u.username) for u in users],
            "groups": [(grp.id, grp.name) for grp in session.exec(select(CustomerGroup).order_by(CustomerGroup.position,
                                                                                               CustomerGroup.id))],
            "scenes": list(session.exec(select(LeadScene.id, LeadScene.name).order_by(LeadScene.id)).all()),
            "channels": list(session.exec(select(LeadChannel.id, LeadChannel.name).order_by(LeadChannel.id)).all()),
            "tags": list(session.exec(select(Tag.id, Tag.name).where(Tag.enabled == True).order_by(Tag.name)).all())}  # noqa: E712


def _names(session, leads) -> dict:
    """Names of the customers and tags on one page of leads (one query each)."""
    customer_ids = {lead.customer_id for lead in leads if lead.customer_id}
    tag_ids = {t for lead in leads for t in (lead.tag_ids or [])}
    customers = dict(session.exec(select(Customer.id, Customer.name).where(col(Customer.id).in_(customer_ids),
                                                                       scope.customers(current_viewer()))).all()) \
        if customer_ids else {}
    tags = dict(session.exec(select(Tag.id, Tag.name).where(col(Tag.id).in_(tag_ids))).all()) if tag_ids else {}
    return {"customer_names": customers, "tag_names": tags}


@bp.get("/leads")
@permission_required("leads.view")
def index():
    args = request.args
    sort_by, order, _ = SORTS.get(args.get("sort", ""), SORTS["-created_at"])
    tag_ids = [t for t in (optional_int(v) for v in args.getlist("tags")) if t]
    page = page_number(args.get("page"))
    filters = {"status": args.get("status") if args.get("status") in LEAD_STATUSES else None,
               "channel_id": optional_int(args.get("channel")), "scene_id": optional_int(args.get("scene")),
               "assignee_user_id": optional_int(args.get("assignee")), "start": parse_local(args.get("start", "")),
               "end": parse_local(args.get("end", ""), end_of_day=True), "tag_ids": tag_ids or None,
               "q": args.get("q", "").strip()[:100]}

    def load(s):
        rows, total = service.list_leads(s, **filters, page=page, size=PER_PAGE, sort_by=sort_by, sort_order=order,
                                         viewer=current_viewer())
        return {"rows": rows, "total": total, **_choices(s), **_names(s, rows)}

    data = read(load)
    keep = {**query_args(*FILTERS), **({"tags": tag_ids} if tag_ids else {})}
    return render_template("leads/index.html", page=page, pages=pages(data["total"], PER_PAGE), args=keep,
                           statuses=LEAD_STATUSES, tones=STATUS_TONES, sorts=SORTS, chosen_tags=tag_ids,
                           can_assign="leads.assign" in g.permissions, **data)


def _assign(lead_id: int, user_id, group_id) -> None:
    with services().db.write() as s:
        service.get_lead(s, lead_id, current_viewer())  # someone else's lead is not found
        manual_assign(s, lead_id, user_id=user_id, group_id=group_id, actor=_actor(), now=services().now(),
                      actor_id=g.user.id)


@bp.post("/leads/assign")
@permission_required("leads.assign")
def bulk_assign():
    """分配/改派 the ticked leads to one salesperson and/or team."""
    ids = selected_ids()[:MAX_BULK]
    user_id, group_id = optional_int(request.form.get("user_id")), optional_int(request.form.get("group_id"))
    if not ids:
        flash("请先勾选要分配的线索", "warning")
    elif not (user_id or group_id):
        flash("请选择要分配给的销售或团队", "warning")
    else:
        done, problems = 0, []
        for lead_id in ids:
            try:
                _assign(lead_id, user_id, group_id)
                done += 1
            except CrmError as exc:  # LeadsError, or LeadNotFound for an id that is gone or not theirs
                problems.append(f"线索 #{lead_id}：{exc.message}")
        if done:
            flash(f"已分配 {done} 条线索", "success")
        for message in problems[:10]:
            flash(message, "error")
    target = request.form.get("next") or ""
    return redirect(target if target.startswith("/") and not target.startswith("//") else url_for("leads.index"))


# -- detail ---------------------------------------------------------------------------------------
def _field_labels(scene) -> dict:
    labels = {f["name"]: f["label"] for f in STANDARD_FIELDS}
    for rule in (scene.mapping_rules if scene else None) or []:
        target = str(rule.get("target", ""))
        labels.setdefault(target, rule.get("label") or target)
    return labels


def _detail(session, lead_id: int) -> dict:
    lead = service.get_lead(session, lead_id, current_viewer())
    scene = session.get(LeadScene, lead.scene_id)
    logs = session.exec(select(LeadLog).where(LeadLog.lead_id == lead_id).order_by(LeadLog.created_at, LeadLog.id)).all()
    assignments = session.exec(select(LeadAssignment).where(LeadAssignment.lead_id == lead_id)
                               .order_by(LeadAssignment.id)).all()
    choices = _choices(session)
    return {"lead": lead, "scene": scene, "channel": session.get(LeadChannel, lead.channel_id) if lead.channel_id else None,
            "customer": _customer(session, lead.customer_id),
            "logs": logs, "assignments": assignments, "labels": _field_labels(scene),
            "next_statuses": [(s, LEAD_STATUSES[s]) for s in service.STATUS_FLOW.get(lead.status, ()) if s in LEAD_STATUSES],
            "user_names": dict(choices["users"]), "group_names": dict(choices["groups"]),
            "tag_names": _names(session, [lead])["tag_names"], **choices}


def _customer(session, customer_id):
    """The lead's customer, when the viewer may see that customer too (else no name shown)."""
    rows = session.exec(select(Customer).where(Customer.id == customer_id, scope.customers(current_viewer()))).all() \
        if customer_id else []
    return rows[0] if rows else None


def pretty(data, masked: bool) -> str:
    """Stored JSON (raw data, meta, a dead letter's payload) indented for reading; for a viewer
    without pii.view every mobile number and e-mail in it is masked, however it was typed."""
    if not masked:
        return json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return json.dumps(mask_value(data), ensure_ascii=False, indent=2, default=str)


def _pretty(data) -> str:
    return pretty(data, _masked())


def _render_detail(lead_id: int, errors=None, values=None, status: int = 200):
    try:
        data = read(lambda s: _detail(s, lead_id))
    except LeadNotFound:
        abort(404)
    return render_template("leads/detail.html", errors=errors or {}, values=values or {}, statuses=LEAD_STATUSES,
                           tones=STATUS_TONES, stage_labels=STAGE_LABELS, method_labels=METHOD_LABELS,
                           pretty=_pretty, **data), status


@bp.get("/leads/<int:lead_id>")
@permission_required("leads.view")
def show(lead_id: int):
    return _render_detail(lead_id)


def _change(lead_id: int, action, success: str, values: dict):
    """Runs one change; a refusal re-renders the detail page with the Chinese message."""
    try:
        action()
    except LeadNotFound:
        abort(404)
    except LeadsError as exc:
        errors = error_map(exc)
        errors.setdefault("__all__", [exc.message])
        return _render_detail(lead_id, errors=errors, values=values, status=422)
    flash(success, "success")
    return redirect(url_for("leads.show", lead_id=lead_id))


@bp.post("/leads/<int:lead_id>/status")
@permission_required("leads.manage")
def change_status(lead_id: int):
    status = request.form.get("status", "")

    def act():
        with services().db.write() as s:
            service.update_lead(s, lead_id, {"status": status}, _actor(), viewer=current_viewer())

    return _change(lead_id, act, f"状态已改为「{LEAD_STATUSES.get(status, status)}」", {"status": status})


@bp.post("/leads/<int:lead_id>/notes")
@permission_required("leads.manage")
def add_note(lead_id: int):
    text = request.form.get("note", "")

    def act():
        with services().db.write() as s:
            service.add_note(s, lead_id, text, _actor(), services().now(), services().settings.timezone,
                             viewer=current_viewer())

    return _change(lead_id, act, "备注已添加", {"note": text})


@bp.post("/leads/<int:lead_id>/assign")
@permission_required("leads.assign")
def assign(lead_id: int):
    user_id, group_id = optional_int(request.form.get("user_id")), optional_int(request.form.get("group_id"))
    return _change(lead_id, lambda: _assign(lead_id, user_id, group_id), "已分配",
                   {"user_id": user_id, "group_id": group_id})
