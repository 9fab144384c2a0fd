"""付款码: payment codes of a 付款码获客 scene (微信支付 or 支付宝, a fixed price or an amount the
payer enters, with scene parameters), each with its QR, how many opened it, how many paid and how
much; the detail lists its 支付记录 and the lead each payment became. A stopped code refuses
further payments, its records stay."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from crm.leads import payments
from crm.leads.errors import LeadNotFound
from crm.people.masking import CLEAR
from web.auth.guards import permission_required
from web.console.forms_common import read, write
from crm.leads.posters import qr_png as draw_qr
from web.console.lead_posters import create_from_form, form_choices, names_of, png, public_base_url
from web.console.masking_filters import current_mode

bp = Blueprint("lead_payments", __name__)
FIELDS = ("scene_id", "channel_id", "plan_id", "title", "provider", "amount_mode", "amount", "params")


def pay_url(code) -> str:
    return f"{public_base_url()}/pay/{code.token}"


def mask_payer(value: str) -> str:
    """A payer's platform id (openid, buyer id) is personal data: 不脱敏 users see it whole."""
    if not value or current_mode() == CLEAR:
        return value or ""
    return value[:3] + "****" + value[-2:] if len(value) > 6 else "****"


@bp.get("/leads/payments")
@permission_required("scenes.manage")
def index():
    rows, names = read(lambda s: (payments.list_codes(s), names_of(s)))
    return render_template("lead_payments/index.html", rows=rows, names=names, providers=payments.PROVIDERS)


def _render_form(values: dict, errors: dict, status: int = 200):
    choices = read(lambda s: form_choices(s, payments.PAYMENT_SCENE_TYPES))
    return render_template("lead_payments/form.html", values=values, errors=errors, choices=choices,
                           providers=payments.PROVIDERS), status


@bp.route("/leads/payments/new", methods=["GET", "POST"])
@permission_required("scenes.manage")
def new():
    if request.method == "GET":
        return _render_form({**{k: "" for k in FIELDS}, "provider": "wechat_pay", "amount_mode": "fixed"}, {})
    return create_from_form(payments.create_code, FIELDS, _render_form, "付款码", "lead_payments.show")


def _code(code_id: int):
    try:
        return read(lambda s: payments.get_code(s, code_id))
    except LeadNotFound:
        abort(404)


@bp.get("/leads/payments/<int:code_id>")
@permission_required("scenes.manage")
def show(code_id: int):
    code = _code(code_id)
    records, names = read(lambda s: (payments.list_records(s, code), names_of(s)))
    return render_template("lead_payments/show.html", code=code, records=records, names=names, link=pay_url(code),
                           providers=payments.PROVIDERS, mask_payer=mask_payer,
                           lead_links="leads.show" in current_app.view_functions)


@bp.get("/leads/payments/<int:code_id>/qr.png")
@permission_required("scenes.manage")
def qr_png(code_id: int):
    return png(draw_qr(pay_url(_code(code_id))), f"paycode-{code_id}.png")


@bp.post("/leads/payments/<int:code_id>/active")
@permission_required("scenes.manage")
def set_active(code_id: int):
    active = request.form.get("active") == "1"
    try:
        code = write(lambda s: payments.set_active(s, code_id, active))
    except LeadNotFound:
        abort(404)
    flash(f"已{'启用' if active else '停用'}付款码「{code.title}」", "success")
    return redirect(url_for("lead_payments.show", code_id=code_id))
