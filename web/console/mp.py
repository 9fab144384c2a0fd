"""公众号 pages (permission mp.manage): the overview (accounts, the callback URL to paste into 公众平台,
accepted / duplicate / refused counts), 微信授权 settings per account (AppID, AppSecret, Token,
EncodingAESKey, 消息加解密方式, 默认客服; 测试连接) and 微信粉丝 (list, sync, bind to a customer)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from crm.customers.models import Customer
from crm.errors import NotFound
from crm.scope import visible_ids
from integrations.errors import IntegrationError, IntegrationNotFound
from integrations.mp import accounts as service
from integrations.mp import fans as fan_service
from integrations.mp import outbound, runtime  # noqa: F401 - outbound registers the "mp" sender
from integrations.mp.client import MpClient
from integrations.mp.models import BIND_WAYS, MODES, OUTCOMES, MpAccount
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, page_arg, pages, read
from web.extensions import services

bp = Blueprint("mp", __name__)
bp.record_once(lambda state: runtime.bind(state.app.extensions["ckb"].services))
REFUSALS = [k for k in OUTCOMES if k not in ("accepted", "duplicate")]
FAN_STATES = [("", "全部"), ("subscribed", "已关注"), ("unsubscribed", "已取消关注"), ("bound", "已绑定客户"),
              ("unbound", "未绑定客户")]


def _write(fn):
    with services().db.write() as s:
        return fn(s)


def callback_url(account: MpAccount) -> str:
    return request.host_url.rstrip("/") + url_for("mp_callback.receive", key=account.callback_key)


@bp.get("/mp")
@permission_required("mp.manage")
def index():
    rows, counts, staff = read(lambda s: (service.list_accounts(s), service.counts(s), dict(service.staff_choices(s))))
    return render_template("mp/index.html", rows=rows, counts=counts, staff=staff, modes=MODES, outcomes=OUTCOMES,
                           refusals=REFUSALS, urls={a.id: callback_url(a) for a in rows})


def _form() -> dict:
    return {k: request.form.get(k, "") for k in ("name", "appid", "secret", "token", "aes_key", "mode",
                                                  "default_user_id")} | {"enabled": request.form.get("enabled") == "1"}


@bp.route("/mp/new", methods=["GET", "POST"])
@permission_required("mp.manage")
def new():
    return _settings(None)


@bp.route("/mp/<int:account_id>/settings", methods=["GET", "POST"])
@permission_required("mp.manage")
def settings(account_id: int):
    return _settings(account_id)


def _settings(account_id):
    try:
        account, staff = read(lambda s: (service.get_account(s, account_id) if account_id else None,
                                         service.staff_choices(s)))
    except IntegrationNotFound:
        abort(404)
    if request.method == "GET":
        values = ({k: getattr(account, k) for k in ("name", "appid", "token", "aes_key", "mode", "default_user_id",
                                                    "enabled")} if account else
                  {"name": "", "appid": "", "token": "", "aes_key": service.generate_aes_key(), "mode": "safe",
                   "default_user_id": "", "enabled": True})
        return _render(account, values, {}, staff)
    values = _form()
    svc = services()
    try:
        row = _write(lambda s: service.save_account(s, svc.secret_box, values, account_id, svc.now()))
    except IntegrationError as exc:
        return _render(account, values, error_map(exc), staff, 400)
    flash(f"已保存公众号「{row.name}」，请把服务器地址(URL)、Token 和 EncodingAESKey 填到公众平台的服务器配置中", "success")
    return redirect(url_for("mp.settings", account_id=row.id))


def _render(account, values, errors, staff, status=200):
    return render_template("mp/settings.html", account=account, values=values, errors=errors, staff=staff,
                           modes=MODES, url=callback_url(account) if account else ""), status


@bp.post("/mp/<int:account_id>/test")
@permission_required("mp.manage")
def test_connection(account_id: int):
    try:
        account = read(lambda s: service.get_account(s, account_id))
    except IntegrationNotFound:
        abort(404)
    try:
        MpClient(services(), account).check()
    except IntegrationError as exc:
        flash(f"连接失败：{exc.message}", "error")
    else:
        flash("连接成功：已用 AppID 和 AppSecret 取得 access_token", "success")
    return redirect(url_for("mp.settings", account_id=account_id))


@bp.get("/mp/fans")
@permission_required("mp.manage")
def fans():
    args = {"account_id": request.args.get("account_id", type=int) or None, "q": request.args.get("q", "")[:64],
            "state": request.args.get("state", "")}
    page = page_arg()
    bind_id = request.args.get("bind", type=int)
    cq = request.args.get("cq", "")[:50]
    viewer = current_viewer()

    def load(s):
        rows, total = fan_service.list_fans(s, args["account_id"], args["q"], args["state"], page)
        names = {a.id: a.name for a in service.list_accounts(s)}
        ids = [r.customer_id for r in rows if r.customer_id]
        seen = set(visible_ids(s, viewer, Customer, ids))
        customers = {c.id: c.name for c in (s.get(Customer, i) for i in seen) if c}
        found = fan_service.search_customers(s, viewer, cq) if bind_id and cq else []
        return rows, total, names, customers, found

    rows, total, names, customers, found = read(load)
    return render_template("mp/fans.html", rows=rows, total=total, names=names, customers=customers, args=args,
                           page=page, pages=pages(total), states=FAN_STATES, bind_id=bind_id, cq=cq, found=found,
                           ways=BIND_WAYS)


def _back():
    return redirect(request.form.get("next") if (request.form.get("next") or "").startswith("/mp/fans")
                    else url_for("mp.fans"))


@bp.post("/mp/fans/sync")
@permission_required("mp.manage")
def fans_sync():
    account_id = request.form.get("account_id", type=int)
    try:
        read(lambda s: service.get_account(s, account_id or 0))
        result = fan_service.sync(services(), account_id)
    except IntegrationNotFound:
        flash("请选择要同步的公众号", "error")
    except IntegrationError as exc:
        flash(f"同步失败：{exc.message}", "error")
    else:
        flash(f"同步完成：关注中 {result['followers']} 人，新取消关注 {result['unsubscribed']} 人，"
              f"按 UnionID 自动绑定 {result['bound']} 人", "success")
    return redirect(url_for("mp.fans", account_id=account_id or None))


@bp.post("/mp/fans/<int:fan_id>/bind")
@permission_required("mp.manage")
def fan_bind(fan_id: int):
    viewer, now = current_viewer(), services().now()
    try:
        fan = _write(lambda s: fan_service.bind(s, viewer, fan_id, request.form.get("customer_id"), now))
    except IntegrationNotFound:
        abort(404)
    except (IntegrationError, NotFound) as exc:  # another's customer answers like an unknown one
        flash(exc.message, "error")
        return _back()
    flash(f"已将粉丝 {fan.openid} 绑定到客户", "success")
    return _back()


@bp.post("/mp/fans/<int:fan_id>/unbind")
@permission_required("mp.manage")
def fan_unbind(fan_id: int):
    try:
        fan = _write(lambda s: fan_service.unbind(s, fan_id, services().now()))
    except IntegrationNotFound:
        abort(404)
    flash(f"已解除粉丝 {fan.openid} 与客户的绑定", "success")
    return _back()
