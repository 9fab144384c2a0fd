"""The public pages of 裂变活动 (no login, mobile layout): a participant's invite page
(/h5/fission/j/<signed code>) where a visitor joins with their phone number — an H5 invitation
checked by the same anti-fraud as friends and group members, under the campaign's per-IP and
per-device limits (config.rate_limit; a refusal is recorded with its reason) — and a
participant's own progress page (/h5/fission/me/<signed id>). A bad or forged link is a 404 in
Chinese; the form carries a signed token instead of a session CSRF token."""
from __future__ import annotations

import secrets

from flask import Blueprint, current_app, make_response, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlmodel import select

from community.fission import participants, stats
from community.fission.attribution import Arrival, attribute, person_keys, refuse
from community.fission.campaigns import is_running
from community.fission.models import Campaign, Participant
from config.pii_column import blind_index
from crm.customers.models import Customer
from crm.customers.normalize import BadContact, normalize_mobile
from web.extensions import csrf, rate_limiter, services
from web.fission_links import JOIN_SALT, ME_SALT, progress_url, read

bp = Blueprint("fission_h5", __name__)
csrf.exempt(bp)  # the signed form token replaces the session CSRF token (visitors have no session)
DEVICE_COOKIE = "ckb_fd"
FORM_SALT = "ckb.fission.form"
HOUR = 3600
MESSAGES = {"bad_link": "链接无效或已失效，请向邀请你的朋友索取新的海报。",
            "ended": "活动未在进行中，感谢关注。", "mobile": "请填写正确的 11 位手机号",
            "bad_form": "页面校验失败，请刷新页面后重新提交。",
            "ip": "同一网络参与过于频繁，请稍后再试", "device": "同一设备参与过于频繁，请稍后再试"}


def _page(message: str, status: int):
    return render_template("lead_public/message.html", message=message, ok=False), status


def _ip() -> str:
    return (request.remote_addr or "")[:64]


def _device() -> str:
    value = request.cookies.get(DEVICE_COOKIE, "")
    return value[:64] if value.isalnum() else ""


def _load_invite(token: str):
    code = read(token, JOIN_SALT)
    with services().db.read() as s:
        inviter = participants.by_code(s, code) if isinstance(code, str) else None
        campaign = s.get(Campaign, inviter.campaign_id) if inviter else None
        name = s.get(Customer, inviter.customer_id).name if inviter else ""
    return inviter, campaign, name


def _form_token(token: str) -> str:
    return URLSafeTimedSerializer(current_app.secret_key, salt=FORM_SALT).dumps(
        {"t": token[-40:], "n": secrets.token_urlsafe(8)})


def _form_ok(token: str) -> bool:
    try:
        data = URLSafeTimedSerializer(current_app.secret_key, salt=FORM_SALT).loads(
            request.form.get("form_token", ""), max_age=HOUR)
    except BadSignature:
        return False
    return isinstance(data, dict) and data.get("t") == token[-40:]


def _landing(token: str, campaign, name: str, values: dict, errors: dict, status: int = 200):
    response = make_response(render_template("fission_h5/join.html", campaign=campaign, inviter_name=name, values=values,
                                             errors=errors, form_token=_form_token(token), token=token), status)
    if not _device():
        response.set_cookie(DEVICE_COOKIE, secrets.token_hex(12), max_age=365 * 24 * HOUR, httponly=True, samesite="Lax")
    return response


@bp.get("/h5/fission/j/<token>")
def join(token: str):
    inviter, campaign, name = _load_invite(token)
    if inviter is None:
        return _page(MESSAGES["bad_link"], 404)
    return _landing(token, campaign, name, {}, {})


def _limited(campaign: Campaign) -> str:
    limits = campaign.rate_limit or {}
    limiter = rate_limiter()
    if not limiter.hit(f"fission:{campaign.id}:ip:{_ip()}", int(limits.get("per_ip") or 20), HOUR)[0]:
        return MESSAGES["ip"]
    device = _device()
    if device and not limiter.hit(f"fission:{campaign.id}:dev:{device}", int(limits.get("per_device") or 5), HOUR)[0]:
        return MESSAGES["device"]
    return ""


@bp.post("/h5/fission/j/<token>")
def join_submit(token: str):
    inviter, campaign, name = _load_invite(token)
    if inviter is None:
        return _page(MESSAGES["bad_link"], 404)
    values = {"name": request.form.get("name", "").strip()[:50], "mobile": request.form.get("mobile", "").strip()[:20]}
    if not _form_ok(token):
        return _landing(token, campaign, name, values, {"__all__": [MESSAGES["bad_form"]]}, 400)
    try:
        mobile = normalize_mobile(values["mobile"])
    except BadContact:
        return _landing(token, campaign, name, values, {"mobile": [MESSAGES["mobile"]]}, 400)
    svc = services()
    now = svc.now()
    if not is_running(campaign, now):
        return _page(MESSAGES["ended"], 400)
    phone_key = blind_index("mobile", mobile)
    arrival = Arrival(channel="h5", ref=f"h5:{phone_key}", name=values["name"], keys=person_keys(phone_bidx=phone_key),
                      ip=_ip(), device=_device())
    limited = _limited(campaign)
    with svc.db.write() as s:
        fresh_inviter = s.get(Participant, inviter.id)
        fresh_campaign = s.get(Campaign, campaign.id)
        if limited:  # kept with its reason, like every refusal; a unique ref per attempt
            arrival.ref = f"h5:limited:{secrets.token_hex(8)}"
            refuse(s, fresh_campaign, fresh_inviter, arrival, limited, now)
            return _page(limited, 429)
        customer = s.exec(select(Customer).where(Customer.mobile_bidx == phone_key).order_by(Customer.id).limit(1)).first()
        if customer is None:
            customer = Customer(name=values["name"] or "裂变用户", mobile=mobile, source="裂变活动", created_at=now, updated_at=now)
            s.add(customer)
            s.flush()
        arrival.customer = customer
        invitation = attribute(s, fresh_campaign, fresh_inviter, arrival, now)
        own = s.exec(select(Participant).where(Participant.campaign_id == campaign.id,
                                               Participant.customer_id == customer.id)).first()
        own_id, status, reason = (own.id if own else None), invitation.status, invitation.reason
    link = progress_url(own_id) if own_id else ""
    return render_template("fission_h5/joined.html", campaign=campaign, status=status, reason=reason, link=link,
                           hold_hours=campaign.hold_hours), 200 if status != "refused" else 409


@bp.get("/h5/fission/me/<token>")
def progress(token: str):
    pid = read(token, ME_SALT)
    with services().db.read() as s:
        p = s.get(Participant, pid) if isinstance(pid, int) else None
        if p is None:
            return _page(MESSAGES["bad_link"], 404)
        campaign = s.get(Campaign, p.campaign_id)
        data = stats.participant_progress(s, campaign, p)
        customer = s.get(Customer, p.customer_id)
    return render_template("fission_h5/progress.html", campaign=campaign, p=p, data=data,
                           name=customer.name if customer else "")
