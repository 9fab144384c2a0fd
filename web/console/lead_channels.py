"""渠道管理: the sources a lead is counted under (百度推广, 抖音信息流, 线下活动 …) with their 渠道码,
how many leads each brought (累计 and 近7天), 启用/停用, and delete — refused while leads point
at the channel, because history must keep its source."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from crm.leads import channels as service
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.models import CHANNEL_TYPES
from crm.leads.plans import lead_counts
from web.auth.guards import permission_required
from web.console.lead_scenes import write_then_back
from web.console.forms_common import error_map, read, write
from web.extensions import services

bp = Blueprint("lead_channels", __name__)


@bp.get("/leads/channels")
@permission_required("scenes.manage")
def index():
    since = services().now() - timedelta(days=7)
    rows, counts = read(lambda s: (service.list_channels(s), lead_counts(s, "channel", since)))
    return render_template("lead_channels/list.html", rows=rows, counts=counts, types=CHANNEL_TYPES)


def _form() -> dict:
    return {"name": request.form.get("name", ""), "channel_type": request.form.get("channel_type", "OTHER"),
            "code": request.form.get("code", ""), "remark": request.form.get("remark", ""),
            "is_active": request.form.get("is_active") == "1"}


def _render(channel, values, errors, status=200):
    return render_template("lead_channels/form.html", channel=channel, values=values, errors=errors,
                           types=CHANNEL_TYPES), status


@bp.route("/leads/channels/new", methods=["GET", "POST"])
@permission_required("scenes.manage")
def new():
    if request.method == "GET":
        return _render(None, {"name": "", "channel_type": "OTHER", "code": "", "remark": "", "is_active": True}, {})
    values = _form()
    try:
        row = write(lambda s: service.create_channel(s, values))
    except LeadsError as exc:
        return _render(None, values, error_map(exc), 400)
    flash(f"已添加渠道「{row.name}」（渠道码 {row.code}）", "success")
    return redirect(url_for("lead_channels.index"))


@bp.route("/leads/channels/<int:channel_id>/edit", methods=["GET", "POST"])
@permission_required("scenes.manage")
def edit(channel_id: int):
    try:
        channel = read(lambda s: service.get_channel(s, channel_id))
    except LeadNotFound:
        abort(404)
    if request.method == "GET":
        values = {k: getattr(channel, k) for k in ("name", "channel_type", "code", "remark", "is_active")}
        return _render(channel, values, {})
    values = _form()
    try:
        write(lambda s: service.update_channel(s, channel_id, values))
    except LeadsError as exc:
        return _render(channel, values, error_map(exc), 400)
    flash(f"已保存渠道「{values['name'].strip()}」", "success")
    return redirect(url_for("lead_channels.index"))


@bp.post("/leads/channels/<int:channel_id>/active")
@permission_required("scenes.manage")
def set_active(channel_id: int):
    active = request.form.get("active") == "1"

    def toggle(s):
        row = service.get_channel(s, channel_id)
        kept = {k: getattr(row, k) for k in ("name", "channel_type", "code", "remark")}
        return service.update_channel(s, channel_id, {**kept, "is_active": active})

    return write_then_back(toggle, lambda row: f"已{'启用' if active else '停用'}渠道「{row.name}」", "lead_channels.index")


@bp.post("/leads/channels/<int:channel_id>/delete")
@permission_required("scenes.manage")
def delete(channel_id: int):
    return write_then_back(lambda s: service.delete_channel(s, channel_id), "渠道已删除", "lead_channels.index")
