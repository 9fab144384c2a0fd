"""What every console page needs from the layout: the current user, the menu they may see,
the unread-notification badge, time and PII filters, and Chinese error pages (JSON under /api)."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from config.clock import DISPLAY_FORMAT, format_local
from config.pii import mask_email, mask_mobile
from crm.people import service as people
from devices.budget_plan import BudgetUnavailable
from web import menu_registry, navigation
from web.extensions import services

ERROR_TITLES = {
    400: "请求无效", 401: "需要登录", 403: "无权访问", 404: "页面不存在",
    405: "不支持的请求方式", 413: "提交的内容过大", 429: "请求过于频繁", 500: "服务器出错了",
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


def _render_error(code: int, message: str, headers: dict | None = None):
    headers = headers or {}
    if _wants_json():
        key = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "too_large", 429: "rate_limited",
               503: "unavailable"}.get(code, "error")
        response = jsonify({"error": {"code": key, "message": message}})
        response.status_code = code
        response.headers.extend(headers)
        return response
    return render_template("errors/error.html", code=code, title=ERROR_TITLES.get(code, "出错了"),
                           message=message), code, headers


def handle_http_error(exc: HTTPException):
    code = exc.code or 500
    # Werkzeug's default descriptions are English; keep ours (set by abort(…, description=)).
    default = type(exc).description
    message = exc.description if exc.description and exc.description != default else ""
    # The exception's own headers (Allow on a 405, Retry-After, WWW-Authenticate) belong on the
    # answer whichever body it gets.
    headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
    return _render_error(code, message or ERROR_HINTS.get(code, ERROR_TITLES.get(code, "出错了")), headers)


def handle_unstorable_value(exc: Exception):
    """A value the database cannot hold (an id past INTEGER on PostgreSQL, an int past 64 bits on
    SQLite) that no form or API check caught: the write was rolled back by db.write(); answer 400
    naming the problem, never 500 — whichever field of whichever route carried it."""
    return _render_error(400, "提交的数值超出范围或格式不被接受，请检查后重试。")


def handle_csrf_error(exc: CSRFError):
    return _render_error(400, "页面已过期或缺少安全令牌，请刷新页面后重试。")


def handle_budget_unavailable(exc: BudgetUnavailable):
    """Any console action whose risk check needs Redis while it is down: 503 and why, never a 500
    (nothing was written; the operator simply tries again)."""
    return _render_error(503, exc.message, {"Retry-After": "30"})


def init_shell(app: Flask) -> None:
    app.context_processor(_shell_context)
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(pii, "pii")
    app.register_error_handler(CSRFError, handle_csrf_error)
    for exc_class in (DataError, OverflowError):
        app.register_error_handler(exc_class, handle_unstorable_value)
    app.register_error_handler(BudgetUnavailable, handle_budget_unavailable)
    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, handle_http_error)
