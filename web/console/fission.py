"""裂变活动 console: the campaign list, the form (type, window, hold period, depth cap, pool,
reward stages, poster template, H5 limits — with the 诱导分享 risk warning), the dashboard
(totals, conversion, daily trend chart, referral tree per level, refusal reasons), participants
with their personal posters and links, and invitations with their status and reasons."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from community.errors import CommunityError, CommunityNotFound
from community.fission import campaigns, participants, posters, stats
from community.fission.models import CAMPAIGN_KINDS, CAMPAIGN_STATES, CHANNELS, INVITATION_STATES
from community.rewards.members import customer_for
from crm.customers.models import Customer
from devices.materials import file_path
from devices.models import ChatGroup, Material, WechatAccount
from web.auth.guards import permission_required
from web.console.forms_common import error_map, local_input, parse_local, read, write
from web.console.lead_posters import png
from web.extensions import services
from web.fission_links import join_url, progress_url

bp = Blueprint("fission", __name__)
STAGE_ROWS = 3
FIELDS = ("name", "kind", "starts_at", "ends_at", "hold_hours", "depth_cap", "team_size", "commission_bp", "rules",
          "poster_title", "poster_subtitle", "poster_color", "poster_material_id", "poster_qr_x", "poster_qr_y",
          "poster_qr_size", "per_ip", "per_device")
STAGE_CHOICES = [(k, v[0]) for k, v in campaigns.STAGE_STEPS.items()]


def _tz() -> str:
    return services().settings.timezone


def _choices(session) -> dict:
    return {"kinds": list(CAMPAIGN_KINDS.items()), "stages": STAGE_CHOICES,
            "accounts": [(a.id, a.nickname or a.wxid) for a in session.exec(select(WechatAccount).order_by(WechatAccount.id))],
            "groups": [(gr.id, gr.name or gr.chatroom_id) for gr in session.exec(select(ChatGroup).order_by(ChatGroup.id).limit(500))]}


def _stages_from_form() -> list[dict]:
    out = []
    for i in range(STAGE_ROWS):
        threshold = request.form.get(f"stage_threshold_{i}", "").strip()
        if not threshold:
            continue
        key = request.form.get(f"stage_processor_{i}", "")
        needed = campaigns.STAGE_STEPS.get(key, ("", "points"))[1]
        out.append({"threshold": threshold, "name": request.form.get(f"stage_name_{i}", ""), "processor": key,
                    "config": {needed: request.form.get(f"stage_value_{i}", "")}})
    return out


def _values_from(campaign) -> dict:
    poster = campaign.poster or {}
    values = {"name": campaign.name, "kind": campaign.kind, "starts_at": local_input(campaign.starts_at),
              "ends_at": local_input(campaign.ends_at), "hold_hours": campaign.hold_hours, "depth_cap": campaign.depth_cap,
              "team_size": campaign.team_size, "commission_bp": campaign.commission_bp, "rules": campaign.rules,
              "poster_title": poster.get("title", ""), "poster_subtitle": poster.get("subtitle", ""),
              "poster_color": poster.get("color", campaigns.COLOR_DEFAULT), "poster_material_id": poster.get("material_id") or "",
              "poster_qr_x": poster.get("qr_x", 215), "poster_qr_y": poster.get("qr_y", 820),
              "poster_qr_size": poster.get("qr_size", 320), "per_ip": (campaign.rate_limit or {}).get("per_ip", 20),
              "per_device": (campaign.rate_limit or {}).get("per_device", 5),
              "account_ids": [str(a) for a in campaign.account_ids or []], "group_ids": [str(x) for x in campaign.group_ids or []]}
    for i, stage in enumerate(campaign.stages or []):
        values[f"stage_threshold_{i}"], values[f"stage_name_{i}"] = stage["threshold"], stage.get("name", "")
        values[f"stage_processor_{i}"] = stage["processor"]
        values[f"stage_value_{i}"] = next(iter((stage.get("config") or {}).values()), "")
    return values


def _form_values() -> dict:
    values = {k: request.form.get(k, "") for k in FIELDS}
    values["account_ids"], values["group_ids"] = request.form.getlist("account_ids"), request.form.getlist("group_ids")
    for i in range(STAGE_ROWS):
        for part in ("threshold", "name", "processor", "value"):
            values[f"stage_{part}_{i}"] = request.form.get(f"stage_{part}_{i}", "")
    return values


def _render_form(values: dict, errors: dict, campaign_id=None, status: int = 200):
    return render_template("fission/form.html", values=values, errors=errors, campaign_id=campaign_id,
                           choices=read(_choices), warning=campaigns.SHARE_RULE_WARNING, rows=range(STAGE_ROWS)), status


def _save(campaign_id=None):
    values = _form_values()
    data = {**values, "stages": _stages_from_form()}
    now = services().now()
    try:
        def work(s):
            clean = campaigns.clean(s, data, parse_local(values["starts_at"]), parse_local(values["ends_at"]))
            if campaign_id is None:
                return campaigns.create(s, clean, g.user.id, now).id
            return campaigns.update(s, campaign_id, clean, now).id
        saved = write(work)
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        return _render_form(values, error_map(exc), campaign_id, 400)
    flash("活动已保存", "success")
    return redirect(url_for("fission.show", campaign_id=saved))


@bp.get("/fission")
@permission_required("fission.manage")
def index():
    rows = read(lambda s: [(c, stats.summary(s, c)) for c in campaigns.list_all(s)])
    return render_template("fission/index.html", rows=rows, kinds=CAMPAIGN_KINDS, states=CAMPAIGN_STATES)


@bp.route("/fission/new", methods=["GET", "POST"])
@permission_required("fission.manage")
def new():
    if request.method == "POST":
        return _save()
    values = {"kind": "invite", "hold_hours": 72, "depth_cap": 3, "team_size": 3, "commission_bp": 0,
              "poster_color": campaigns.COLOR_DEFAULT, "poster_qr_x": 215, "poster_qr_y": 820, "poster_qr_size": 320,
              "per_ip": 20, "per_device": 5, "account_ids": [], "group_ids": []}
    return _render_form(values, {})


def _campaign(s, campaign_id):
    try:
        return campaigns.get(s, campaign_id)
    except CommunityNotFound:
        abort(404)


@bp.route("/fission/<int:campaign_id>/edit", methods=["GET", "POST"])
@permission_required("fission.manage")
def edit(campaign_id: int):
    if request.method == "POST":
        return _save(campaign_id)
    return _render_form(read(lambda s: _values_from(_campaign(s, campaign_id))), {}, campaign_id)


@bp.post("/fission/<int:campaign_id>/status")
@permission_required("fission.manage")
def set_status(campaign_id: int):
    status = request.form.get("status", "")
    if status not in CAMPAIGN_STATES:
        abort(400)
    write(lambda s: _campaign(s, campaign_id) and campaigns.set_status(s, campaign_id, status, services().now()))
    flash(f"活动已{CAMPAIGN_STATES[status]}", "success")
    return redirect(url_for("fission.show", campaign_id=campaign_id))


def trend_option(daily: dict) -> dict:
    return {"tooltip": {"trigger": "axis"}, "legend": {"data": ["邀请", "有效"]},
            "xAxis": {"type": "category", "data": daily["labels"]}, "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"name": "邀请", "type": "bar", "data": daily["invited"]},
                       {"name": "有效", "type": "line", "data": daily["valid"]}]}


@bp.get("/fission/<int:campaign_id>")
@permission_required("fission.manage")
def show(campaign_id: int):
    def load(s):
        c = _campaign(s, campaign_id)
        return (c, stats.summary(s, c), participants.levels(s, c.id), stats.refusal_reasons(s, c.id),
                stats.daily(s, c.id, _tz()))
    campaign, summary, levels, reasons, daily = read(load)
    return render_template("fission/show.html", c=campaign, summary=summary, levels=levels, reasons=reasons,
                           chart=trend_option(daily), has_trend=bool(daily["labels"]), kinds=CAMPAIGN_KINDS,
                           states=CAMPAIGN_STATES, steps=campaigns.STAGE_STEPS)


@bp.route("/fission/<int:campaign_id>/participants", methods=["GET", "POST"])
@permission_required("fission.manage")
def participant_list(campaign_id: int):
    errors = {}
    if request.method == "POST":  # a seed participant (level 1): a customer of ours who starts sharing
        try:
            def add(s):
                c = _campaign(s, campaign_id)
                cid = request.form.get("customer_id", "").strip()
                customer = s.get(Customer, int(cid)) if cid.isdigit() else None
                wxid = request.form.get("wxid", "").strip()[:64]
                if customer is None and wxid:
                    customer = customer_for(s, wxid, wxid, None, "裂变活动", services().now())
                if customer is None:
                    raise CommunityError("请填写客户 ID 或微信号", {"customer_id": "客户不存在，请填写客户 ID 或微信号"})
                return participants.join(s, c, customer, wxid, now=services().now())[0].id
            pid = write(add)
            flash("已加入活动，可下载其专属海报", "success")
            return redirect(url_for("fission.participant", campaign_id=campaign_id, participant_id=pid))
        except CommunityError as exc:
            errors = error_map(exc)
    campaign, rows = read(lambda s: (_campaign(s, campaign_id), participants.listing(s, campaign_id)))
    return render_template("fission/participants.html", c=campaign, rows=rows, errors=errors), 400 if errors else 200


def _participant(s, campaign_id: int, participant_id: int):
    try:
        p = participants.get(s, participant_id)
    except CommunityNotFound:
        abort(404)
    if p.campaign_id != campaign_id:
        abort(404)
    return p


@bp.get("/fission/<int:campaign_id>/participants/<int:participant_id>")
@permission_required("fission.manage")
def participant(campaign_id: int, participant_id: int):
    def load(s):
        c = _campaign(s, campaign_id)
        p = _participant(s, campaign_id, participant_id)
        return c, p, s.get(Customer, p.customer_id), stats.participant_progress(s, c, p)
    campaign, p, customer, progress = read(load)
    return render_template("fission/participant.html", c=campaign, p=p, customer=customer, progress=progress,
                           join_link=join_url(p.code), progress_link=progress_url(p.id), states=INVITATION_STATES,
                           channels=CHANNELS, state_value=participants.STATE_PREFIX + p.code)


@bp.get("/fission/<int:campaign_id>/participants/<int:participant_id>/poster.png")
@permission_required("fission.manage")
def poster_png(campaign_id: int, participant_id: int):
    def load(s):
        c = _campaign(s, campaign_id)
        p = _participant(s, campaign_id, participant_id)
        material = s.get(Material, (c.poster or {}).get("material_id") or 0)
        customer = s.get(Customer, p.customer_id)
        return c.poster or {}, p, material, customer.name if customer else ""
    poster, p, material, name = read(load)
    background = file_path(services().settings, material) if material else None
    return png(posters.poster_png(poster, join_url(p.code), name, background), f"fission-poster-{p.id}.png")


@bp.get("/fission/<int:campaign_id>/invitations")
@permission_required("fission.manage")
def invitations(campaign_id: int):
    status = request.args.get("status", "")
    campaign, rows, reasons = read(lambda s: (_campaign(s, campaign_id),
                                              stats.invitations(s, campaign_id, status if status in INVITATION_STATES else None),
                                              stats.refusal_reasons(s, campaign_id)))
    return render_template("fission/invitations.html", c=campaign, rows=rows, status=status, states=INVITATION_STATES,
                           channels=CHANNELS, reasons=reasons)
