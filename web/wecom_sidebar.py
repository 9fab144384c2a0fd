"""企业微信侧边栏: the H5 page staff open beside a chat, its JS-SDK config, and the portrait API
`GET /api/crm/customers/<wxId>` (wxId: a WeChat wxid or a WeCom external_userid).

Who may call: a console sign-in, or the sidebar's own signed session (integrations.wecom.sidebar:
WeCom OAuth code → mapped user → signed cookie). Never anonymous. The portrait needs 查看客户
(customers.view) and goes through the object scope, so a 业务员 sees only their customers (another
one is 404 like an unknown id); phones are masked without pii.view. Errors use the API envelope.
"""
from __future__ import annotations

import os

from flask import Blueprint, current_app, g, redirect, render_template, request, url_for

from conversations.quick_replies import service as quick_service
from conversations.quick_replies.rendering import search_for_customer
from crm.audit import logins as login_log
from crm.errors import NotFound
from crm.people import service as people
from crm.scope import Viewer
from integrations.errors import IntegrationError, PlatformError
from integrations.wecom import sidebar
from integrations.wecom.corps import by_corp_id
from web.api.common import masked, ok
from web.auth.guards import api_error, missing_details
from web.extensions import services
from web.wecom_portrait import portrait

bp = Blueprint("wecom_sidebar", __name__)
JSSDK_FILE = "vendor/jweixin/jweixin-1.2.0.js"  # copied in by the operator (Tencent's script, not vendored here)


def _identity(corp_pk: int | None = None):
    """(user, permissions) of the console sign-in or of a sidebar session (for `corp_pk` if given)."""
    if g.get("user") is not None:
        return g.user, g.permissions
    svc = services()
    data = sidebar.read(svc.settings.resolved_secret_key(), request.cookies.get(sidebar.COOKIE, ""))
    if data is None or (corp_pk is not None and data.get("c") != corp_pk):
        return None, frozenset()
    user, perms = people.load_identity(svc.db, data["u"])
    return (user, frozenset(perms)) if user is not None else (None, frozenset())


def _corp(corp_id: str):
    with services().db.read() as session:
        corp = by_corp_id(session, corp_id)
        session.expunge(corp)
    return corp


def _denied(message: str, status: int = 401):
    return render_template("wecom/sidebar_denied.html", message=message), status


def _log_sign_in(result: str, user_id, detail: str) -> None:
    """登录日志 for the sidebar's WeCom OAuth sign-in, beside the console's password sign-in."""
    svc = services()
    user = people.load_identity(svc.db, user_id)[0] if user_id else None
    login_log.record_login(svc.db, username=user.username if user else "", result=result, user_id=user_id,
                           ip=request.remote_addr or "", user_agent=request.headers.get("User-Agent", ""),
                           now=svc.now(), channel="wecom_sidebar", detail=detail)


@bp.get("/wecom/sidebar/<corp_id>")
def page(corp_id: str):
    try:
        corp = _corp(corp_id)
    except NotFound:
        return _denied("未知的企业 ID", 404)
    svc = services()
    code = request.args.get("code", "")
    if code:
        try:
            with svc.db.read() as session:
                user_id = sidebar.user_for_code(svc.settings, session, corp, code[:128])
        except IntegrationError as exc:
            _log_sign_in("rejected", None, str(exc))
            return _denied(str(exc), 403)
        _log_sign_in("success", user_id, corp.name)
        args = {k: v for k, v in request.args.items() if k not in ("code", "state")}
        response = redirect(url_for("wecom_sidebar.page", corp_id=corp_id, **args))
        response.set_cookie(sidebar.COOKIE, sidebar.issue(svc.settings.resolved_secret_key(), user_id, corp.id),
                            max_age=sidebar.SESSION_HOURS * 3600, httponly=True, samesite="Lax",
                            secure=svc.settings.secure_cookies, path="/")
        return response
    user, _ = _identity(corp.id)
    if user is None:
        return _denied("请从企业微信聊天工具栏打开本页（需经企业微信身份校验），或先登录控制台")
    jssdk = os.path.exists(os.path.join(current_app.static_folder, JSSDK_FILE))
    return render_template("wecom/sidebar.html", corp=corp, jssdk=jssdk, jssdk_file=JSSDK_FILE, user=user,
                           external_userid=request.args.get("external_userid", "")[:64])


@bp.get("/wecom/sidebar/<corp_id>/jssdk")
def jssdk_config(corp_id: str):
    try:
        corp = _corp(corp_id)
    except NotFound:
        return api_error(404, "not_found", "未知的企业 ID")
    user, _ = _identity(corp.id)
    if user is None:
        return api_error(401, "unauthorized", "需要企业微信侧边栏会话或控制台登录")
    svc = services()
    try:
        return ok(sidebar.jssdk_config(svc.settings, corp, request.args.get("url", ""), int(svc.now().timestamp())))
    except PlatformError as exc:
        return api_error(502, "platform_error", str(exc))
    except IntegrationError as exc:
        return api_error(422, "invalid", str(exc))


@bp.get("/api/crm/customers/<wx_id>")
def customer_portrait(wx_id: str):
    user, perms = _identity()
    if user is None:
        return api_error(401, "unauthorized", "需要控制台登录或企业微信侧边栏会话")
    if "customers.view" not in perms:
        return api_error(403, "forbidden", "缺少权限：查看客户（customers.view）", details=missing_details(["customers.view"]))
    if not wx_id or len(wx_id) > 64:
        return api_error(404, "not_found", "未找到该联系人对应的客户")
    g.permissions = perms  # masked() reads pii.view from here
    try:
        with services().db.read() as session:
            data = portrait(session, wx_id, Viewer(user.id, perms))
    except NotFound as exc:
        return api_error(404, "not_found", str(exc))
    return ok(masked(data))


customer_portrait.required_permissions = frozenset({"customers.view"})


@bp.get("/wecom/sidebar/quick-replies")
def sidebar_quick_replies():
    """快捷回复 for the sidebar session (or a console sign-in), rendered for the contact's customer."""
    user, perms = _identity()
    if user is None:
        return api_error(401, "unauthorized", "需要控制台登录或企业微信侧边栏会话")
    if "conversations.view" not in perms:
        return api_error(403, "forbidden", "缺少权限：使用触客宝（conversations.view）", details=missing_details(["conversations.view"]))
    try:
        customer_id = int(request.args.get("customer_id") or 0) or None
    except ValueError:
        return api_error(400, "bad_request", "customer_id 应为整数")
    flt = quick_service.ReplyFilter((request.args.get("q") or "").strip()[:50], None)
    try:
        with services().db.read() as session:
            items = search_for_customer(session, Viewer(user.id, perms), flt, customer_id, 20)
    except NotFound as exc:
        return api_error(404, "not_found", str(exc))
    return ok({"items": items})


sidebar_quick_replies.required_permissions = frozenset({"conversations.view"})
