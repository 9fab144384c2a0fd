"""What every console page needs from the layout: the current user, the menu they may see,
the unread-notification badge, time and PII filters, and Chinese error pages (under /api the one JSON error envelope of web/api/common.py)."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from config.clock import DISPLAY_FORMAT, format_local
from config.pii import mask_email, mask_mobile
from crm.people import service as people
from devices.budget_plan import BudgetUnavailable
from web import menu_registry, navigation
from web.api.common import http_error_response, http_exception_message
from web.extensions import services

ERROR_TITLES = {
    400: "请求无效", 401: "需要登录", 403: "无权访问", 404: "页面不存在",
    405: "不支持的请求方式", 413: "提交的内容过大", 415: "不支持的内容类型", 429: "请求过于频繁", 500: "服务器出错了",
    503: "服务暂时不可用",
}
ERROR_HINTS = {
    403: "你的账号没有访问此页面的权限，如需开通请联系管理员。",
    404: "链接可能已失效，或页面已被移动。",
    405: "请通过页面上的按钮操作。",
    500: "请稍后重试；问题持续时请联系管理员。",
}


def localtime(value: datetime | None, fmt: str = DISPLAY_FORMAT) -> str:
    """A stored UTC time in the configured zone (CKB_TIMEZONE); "—" for none."""
    return format_local(value, fmt, services().settings.timezone)


def pii(value: str | None) -> str:
    """A mobile number / e-mail in full for holders of pii.view, masked for everyone else."""
    if not value:
        return ""
    if "pii.view" in g.get("permissions", frozenset()):
        return value
    return mask_email(mask_mobile(value))


def _shell_context():
    user = g.get("user")
    perms = g.get("permissions", frozenset())
    context = {"current_user": user, "can": lambda name: name in perms, "nav_active": navigation.is_active}
    if user is not None:
        context["nav_menu"] = menu_registry.visible_menu(perms, current_app.view_functions)
        context["unread_notifications"] = people.unread_count(services().db, user.id)
    return context


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _render_error(code: int, message: str, headers: dict | None = None, api_message: str | None = None,
                  api_code: str | None = None):
    """The Chinese error page, or under /api the one error envelope: `api_message` (None: the API's
    own wording for the status, never the console's hints) and a stable English `api_code`."""
    headers = headers or {}
    if _wants_json():
        return http_error_response(code, api_message, headers, api_code)
    return render_template("errors/error.html", code=code, title=ERROR_TITLES.get(code, "出错了"),
                           message=message), code, headers


def handle_http_error(exc: HTTPException):
    code = exc.code or 500
    # Werkzeug's default descriptions are English; keep ours (set by abort(…, description=)).
    message = http_exception_message(exc)
    # The exception's own headers (Allow on a 405, Retry-After, WWW-Authenticate) belong on the
    # answer whichever body it gets.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return _render_error(code, message or ERROR_HINTS.get(code, ERROR_TITLES.get(code, "出错了")), headers,
                         api_message=message or None)


def handle_unstorable_value(exc: Exception):
    """A value the database cannot hold (an id past INTEGER on PostgreSQL, an int past 64 bits on
    SQLite) that no form or API check caught: the write was rolled back by db.write(); answer 400
    naming the problem, never 500 — whichever field of whichever route carried it."""
    return _render_error(400, "提交的数值超出范围或格式不被接受，请检查后重试。",
                         api_message="提交的数值超出范围或格式不被接受", api_code="value_out_of_range")


def handle_csrf_error(exc: CSRFError):
    return _render_error(400, "页面已过期或缺少安全令牌，请刷新页面后重试。",
                         api_message="缺少或无效的 CSRF 令牌：接口请使用 Bearer 令牌或 HMAC 签名调用", api_code="csrf_failed")


def handle_budget_unavailable(exc: BudgetUnavailable):
    """Any console action whose risk check needs Redis while it is down: 503 and why, never a 500
    (nothing was written; the operator simply tries again)."""
    return _render_error(503, exc.message, {"Retry-After": "30"}, api_message=exc.message)


def init_shell(app: Flask) -> None:
    app.context_processor(_shell_context)
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(pii, "pii")
    app.register_error_handler(CSRFError, handle_csrf_error)
    for exc_class in (DataError, OverflowError):
        app.register_error_handler(exc_class, handle_unstorable_value)
    app.register_error_handler(BudgetUnavailable, handle_budget_unavailable)
    for code in (400, 401, 403, 404, 405, 413, 415, 429, 500):
        app.register_error_handler(code, handle_http_error)
