"""群活监控: the alert list (open / closed episodes, newest first, each naming its group, rule and why)
and the rules (for all groups or one: no message for N days, speakers below X % over N days, quits
above joins over N days) — reading needs community.view, changing rules community.manage. A
业务员 sees the alerts of their own accounts' groups only."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func
from sqlmodel import col, select

from community.activity import alerts as service
from community.activity.models import ALERT_KINDS, GroupAlert, GroupAlertRule
from community.errors import CommunityError, CommunityNotFound
from community.groups.scope import groups_clause, sees_all
from devices.models import ChatGroup
from web.auth.guards import current_viewer, has_permission, permission_required
from web.console.community import bp
from web.console.forms_common import error_map, page_arg, read, write
from web.extensions import services

PER_PAGE = 30
STATUSES = {"open": "预警中", "closed": "已解除"}


@bp.get("/community/alerts")
@permission_required("community.view")
def alerts():
    viewer, page = current_viewer(), page_arg()
    status = request.args.get("status") if request.args.get("status") in STATUSES else ""
    kind = request.args.get("kind") if request.args.get("kind") in ALERT_KINDS else ""

    def load(s):
        query = (select(GroupAlert, ChatGroup.name).join(ChatGroup, ChatGroup.id == GroupAlert.group_id)
                 .where(groups_clause(viewer)))
        if status:
            query = query.where(GroupAlert.status == status)
        if kind:
            query = query.where(GroupAlert.kind == kind)
        total = s.exec(select(func.count()).select_from(query.subquery())).one()
        rows = s.exec(query.order_by(col(GroupAlert.status).desc(), col(GroupAlert.opened_at).desc(),
                                     col(GroupAlert.id).desc()).offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
        rules = s.exec(select(GroupAlertRule).order_by(GroupAlertRule.id)).all()
        open_count = s.exec(select(func.count()).select_from(GroupAlert).join(ChatGroup, ChatGroup.id == GroupAlert.group_id)
                            .where(GroupAlert.status == "open").where(groups_clause(viewer))).one()
        names = {r.id: r.name for r in rules}
        targets = dict(s.exec(select(ChatGroup.id, ChatGroup.name).where(
            col(ChatGroup.id).in_([r.group_id for r in rules if r.group_id]))).all()) if rules else {}
        return rows, total, rules, open_count, names, targets

    rows, total, rules, open_count, names, targets = read(load)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("community/alerts.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), args=args, rules=rules if sees_all(viewer) else [],
                           rule_names=names, targets=targets, open_count=open_count, statuses=STATUSES,
                           kinds=ALERT_KINDS, describe=service.describe_rule, can_manage=has_permission("community.manage"))


def _values() -> dict:
    return {"name": request.form.get("name", ""), "kind": request.form.get("kind", ""),
            "days": request.form.get("days", ""), "threshold": request.form.get("threshold", ""),
            "group_id": request.form.get("group_id", ""), "enabled": request.form.get("enabled") == "1"}


def _group_options(s):
    return [(g.id, g.name or g.chatroom_id) for g in s.exec(select(ChatGroup).order_by(ChatGroup.name, ChatGroup.id).limit(2000))]


@bp.route("/community/rules/new", methods=["GET", "POST"])
@permission_required("community.manage")
def rule():
    return _rule_form(None)


@bp.route("/community/rules/<int:rule_id>", methods=["GET", "POST"])
@permission_required("community.manage")
def rule_edit(rule_id: int):
    return _rule_form(rule_id)


def _rule_form(rule_id):
    try:
        existing = read(lambda s: service.get_rule(s, rule_id)) if rule_id else None
    except CommunityNotFound:
        abort(404)
    groups = read(_group_options)
    if request.method == "GET":
        values = ({"name": existing.name, "kind": existing.kind, "days": existing.days, "threshold": existing.threshold,
                   "group_id": existing.group_id or "", "enabled": existing.enabled} if existing else
                  {"name": "", "kind": "silent", "days": 7, "threshold": 10, "group_id": "", "enabled": True})
        return render_template("community/rule.html", rule=existing, values=values, errors={}, kinds=ALERT_KINDS,
                               groups=groups)
    values = _values()
    svc = services()
    try:
        saved = write(lambda s: service.save_rule(s, values, current_viewer().user_id, svc.now(), rule_id))
    except CommunityError as exc:
        return render_template("community/rule.html", rule=existing, values=values, errors=error_map(exc),
                               kinds=ALERT_KINDS, groups=groups), 400
    flash(f"已保存规则「{saved.name}」，每分钟检查一次", "success")
    return redirect(url_for("community.alerts"))


@bp.post("/community/rules/<int:rule_id>/delete")
@permission_required("community.manage")
def rule_delete(rule_id: int):
    svc = services()
    try:
        gone = write(lambda s: service.delete_rule(s, rule_id, svc.now()))
    except CommunityNotFound:
        abort(404)
    flash(f"已删除规则「{gone.name}」，它的进行中预警已解除", "success")
    return redirect(url_for("community.alerts"))
