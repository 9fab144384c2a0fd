"""The pages a customer's phone opens (no login): a poster's QR leads to `/s/<token>`, a short
留资 form (姓名、手机号、留言) whose submission becomes a lead of the poster's scene with its
channel and plan; a payment code's QR leads to `/pay/<token>`, which shows what is being paid and
how (the payment itself happens in 微信支付/支付宝; their notifications arrive by webhook).

Scans and adds are counted for 渠道统计. The form is public, so instead of a session CSRF token
each rendered form carries a signed token (valid one hour, bound to this code, with a nonce that
makes a double-tapped 提交 one lead), a hidden honeypot field bots fill in, and per-IP and
per-scene rate limits.
"""
from __future__ import annotations

import secrets

from flask import Blueprint, current_app, render_template, request
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

from crm.leads import payments, posters
from crm.leads.errors import LeadNotFound, SubmissionRefused
from crm.leads.intake import Submission, submit
from crm.leads.models import Lead, LeadScene
from web.extensions import csrf, rate_limiter, services

bp = Blueprint("lead_public", __name__)
csrf.exempt(bp)  # the signed form token below replaces the session CSRF token (visitors have no session)

FORM_SALT = "ckb.lead_public.form"
FORM_MAX_AGE = 3600  # seconds a rendered form stays valid
SCAN_LIMIT = (30, 60)  # counted scans per IP per minute; more still see the page, uncounted
FORM_LIMIT = (5, 60)  # form submissions per IP per minute
HONEYPOT = "website"
FIELDS = ("name", "mobile", "message")
MESSAGES = {
    "not_found": "二维码无效或已失效，请联系商家获取新的二维码。",
    "inactive": "该付款码已停用，请联系商家。",
    "rate": "提交过于频繁，请稍后再试。",
    "honeypot": "提交未通过安全校验，请刷新页面后重新填写。",
    "expired": "页面已过期，请刷新页面后重新提交。",
    "bad_token": "页面校验失败，请刷新页面后重新提交。",
    "mobile": "请填写手机号",
    "scene": "活动已结束或暂停，暂时无法提交。",
    "changed": "这个页面的表单已经提交过，刚才修改的内容还没有保存。请确认后再次提交。",
}


class _ClockSigner(TimestampSigner):
    """Form tokens age by the app's clock, so expiry follows the same time as everything else."""

    def get_timestamp(self) -> int:
        return int(services().now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=FORM_SALT, signer=_ClockSigner)


def _allowed(key: str, limit: tuple[int, int]) -> bool:
    allowed, _retry = rate_limiter().hit(key, limit[0], limit[1])
    return allowed


def _ip() -> str:
    return (request.remote_addr or "")[:64]


def _message_page(message: str, status: int):
    return render_template("lead_public/message.html", message=message, ok=False), status


def _form(code, scene_name: str, values: dict, errors: dict, status: int = 200):
    token = _serializer().dumps({"t": code.token, "n": secrets.token_urlsafe(12)})
    light_text = sum(posters.text_color(code.color)) > 600  # white title on a dark poster colour
    return render_template("lead_public/landing.html", code=code, scene_name=scene_name, values=values, errors=errors,
                           form_token=token, honeypot=HONEYPOT, light_text=light_text), status


def _load(token: str):
    with services().db.read() as session:
        code = posters.code_by_token(session, token)
        scene = session.get(LeadScene, code.scene_id) if code else None
        if code is not None:
            session.expunge(code)
        return code, (scene.name if scene else ""), (scene.rate_limit_per_minute if scene else 0)


@bp.get("/s/<token>")
def landing(token: str):
    code, scene_name, _ = _load(token)
    if code is None:
        return _message_page(MESSAGES["not_found"], 404)
    # Over the limit the visitor still gets the page; only the counter ignores the burst.
    if _allowed(f"lead:scan:{_ip()}", SCAN_LIMIT):
        with services().db.write() as session:
            posters.record_scan(session, token, _ip())
    return _form(code, scene_name, {}, {})


def _check_form_token(token: str) -> tuple[str, str]:
    """('', nonce) for a valid token of this code, else (message key, '')."""
    try:
        data = _serializer().loads(request.form.get("form_token", ""), max_age=FORM_MAX_AGE)
    except SignatureExpired:
        return "expired", ""
    except BadSignature:
        return "bad_token", ""
    if not isinstance(data, dict) or data.get("t") != token or not data.get("n"):
        return "bad_token", ""
    return "", str(data["n"])


@bp.post("/s/<token>")
def submit_form(token: str):
    code, scene_name, scene_limit = _load(token)
    if code is None:
        return _message_page(MESSAGES["not_found"], 404)
    if not _allowed(f"lead:form:ip:{_ip()}", FORM_LIMIT) or \
            not _allowed(f"lead:form:scene:{code.scene_id}", (max(1, scene_limit), 60)):
        return _message_page(MESSAGES["rate"], 429)
    if request.form.get(HONEYPOT, "").strip():
        return _message_page(MESSAGES["honeypot"], 400)
    problem, nonce = _check_form_token(token)
    values = {k: request.form.get(k, "").strip()[:500] for k in FIELDS}
    if problem:
        return _form(code, scene_name, values, {"__all__": [MESSAGES[problem]]}, 400)
    if not values["mobile"]:
        return _form(code, scene_name, values, {"mobile": [MESSAGES["mobile"]]}, 400)
    sub = Submission(raw={**values, "source_url": request.base_url}, external_id=f"qr:{nonce}", source="qr",
                     channel_id=code.channel_id, plan_id=code.plan_id,
                     meta={"qr_token": token, "ip_address": _ip(), "user_agent": request.user_agent.string[:300],
                           "submission_url": request.base_url})
    svc = services()
    result = submit(svc.db, code.scene_id, [sub], tz=svc.settings.timezone, now=svc.now())[0]
    if isinstance(result, SubmissionRefused):
        field_errors = {k: [v] for k, v in result.errors.items() if k in FIELDS}
        if not field_errors:  # not the visitor's fault (scene stopped, channel removed …)
            return _message_page(MESSAGES["scene"], 400)
        return _form(code, scene_name, values, field_errors, 400)
    if result.duplicate:
        # The token was used already: say so. The same details again (a double-tapped 提交) were
        # received; different ones were not stored, and the visitor gets a fresh form to send them.
        if _stored_values(result.lead_id) != values:
            return _form(code, scene_name, values, {"__all__": [MESSAGES["changed"]]}, 409)
        return render_template("lead_public/thanks.html", code=code, again=True), 200
    try:
        with svc.db.write() as session:
            posters.record_add(session, token, result.lead_id)
    except LeadNotFound:  # the code was deleted meanwhile; the lead stands
        pass
    return render_template("lead_public/thanks.html", code=code), 200


def _stored_values(lead_id: int) -> dict:
    """The form fields as the lead received them (its raw submission)."""
    with services().db.read() as session:
        lead = session.get(Lead, lead_id)
        raw = dict(lead.raw_data or {}) if lead is not None else {}
    return {k: str(raw.get(k, "")) for k in FIELDS}


@bp.get("/pay/<token>")
def pay(token: str):
    with services().db.write() as session:
        counted = _allowed(f"lead:pay:{_ip()}", SCAN_LIMIT)
        code = payments.record_scan(session, token) if counted else payments.code_by_token(session, token)
        if code is not None:
            session.refresh(code)
            session.expunge(code)
    if code is None:
        return _message_page(MESSAGES["not_found"], 404)
    if not code.is_active:
        return _message_page(MESSAGES["inactive"], 410)
    return render_template("lead_public/pay.html", code=code, provider=payments.PROVIDERS.get(code.provider, ""))
