"""Request parsing and error answers shared by the /api/v1 views.

Every error answer under /api is built by `error_envelope` (the shape: events.errors.error_body):
views raise BadRequest or a domain error (crm/events/rules errors, mapped by class in
`error_response`), and the app's HTTP error handlers (400/401/403/404/405/413/415/429/500/503,
CSRF, values the database refuses) answer /api paths through `http_error_response`.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from config.pii import mask_value
from events.errors import error_body
from events.safe_json import problems
from web.extensions import runtime, services
from web.input_limits import INT_MAX, INT_MIN, JSONTooDeep, bounded_loads


class BadRequest(Exception):
    def __init__(self, message: str, errors: dict | None = None, status: int = 400, code: str = "bad_request"):
        super().__init__(message)
        self.message, self.errors, self.status, self.code = message, errors or {}, status, code


def json_body(required: bool = True) -> dict:
    """The request's JSON object, with size and depth limits; BadRequest names the problem."""
    settings = services().settings
    raw = request.get_data(cache=True)
    if len(raw) > settings.max_body_bytes:
        raise BadRequest(f"请求体过大：上限 {settings.max_body_bytes} 字节")
    if not raw.strip():
        if required:
            raise BadRequest("请求体不能为空，应为 JSON 对象")
        return {}
    try:
        data = bounded_loads(raw, settings.max_json_depth)
    except JSONTooDeep as exc:
        raise BadRequest(exc.description) from None
    except ValueError as exc:
        raise BadRequest(f"JSON 格式错误：{exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("请求体应为 JSON 对象")
    unstorable = problems(data)
    if unstorable:  # NUL, lone surrogates, NaN/Infinity: refused naming the field, as at every entrance
        raise BadRequest("请求数据有误：" + "；".join(p["message"] for p in unstorable),
                         {p["field"]: p["message"] for p in unstorable}, status=422, code="invalid")
    return data


def int_arg(name: str, default=None, minimum: int = 1, maximum: int = 10**9):
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"查询参数 {name} 应为整数") from None
    if not minimum <= number <= maximum:
        raise BadRequest(f"查询参数 {name} 应在 {minimum} 到 {maximum} 之间")
    return number


def ids_arg(data: dict) -> list[int]:
    ids = data.get("ids")
    if not isinstance(ids, list) or not ids or not all(
            isinstance(i, int) and not isinstance(i, bool) and INT_MIN <= i <= INT_MAX for i in ids):
        raise BadRequest("ids 应为非空整数数组", {"ids": "ids 应为非空整数数组"})
    if len(ids) > 1000:
        raise BadRequest("一次最多操作 1000 条")
    return ids


def bool_field(data: dict, name: str) -> bool:
    """A JSON boolean: the string "false" must not read as True."""
    value = data.get(name)
    if not isinstance(value, bool):
        raise BadRequest(f"{name} 应为 true 或 false", {name: f"{name} 应为 true 或 false"})
    return value


def str_field(data: dict, name: str, label: str):
    """A JSON string (or absent): a list or object must not be saved as its Python repr."""
    value = data.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest(f"{label}应为字符串", {name: f"{label}应为字符串"}, status=422, code="invalid")
    return value


def list_field(data: dict, name: str, message: str) -> None:
    """Refuses (422, naming the field) a value that is present but neither a list nor a string."""
    if data.get(name) is not None and not isinstance(data[name], (list, str)):
        raise BadRequest(message, {name: message}, status=422, code="invalid")


def error_envelope(status: int, code: str, message: str, fields: dict | None = None, details: list | None = None,
                   reference: str | None = None, headers: dict | None = None):
    """THE error answer of /api: status + the envelope {"error": {code, message, fields, details[, reference]}}.
    `reference` names a logged unhandled error (500) so support can find it without a stack trace."""
    response = jsonify(error_body(code, message, fields, details, reference))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="cunkebao"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def error_response(exc) -> tuple:
    """Any service error with .message/.errors becomes a 4xx JSON answer naming the problem."""
    status = getattr(exc, "status", 404 if type(exc).__name__ in ("NotFound", "DefinitionNotFound") else 422)
    code = getattr(exc, "code", "not_found" if status == 404 else "invalid")
    message = getattr(exc, "message", None) or str(exc)
    errors = getattr(exc, "errors", None) or {}
    if isinstance(errors, list):  # [{"field", "message"}] from some services: the same facts as a map
        errors = {str(e.get("field", "")): str(e.get("message", "")) for e in errors if isinstance(e, dict)}
    return error_envelope(status, code, message, fields=errors, details=getattr(exc, "details", None))


# Stable codes and API wording for HTTP errors raised outside a view (routing, limits, CSRF…):
# never the console's hints (「请通过页面上的按钮操作」) — an API client has no page.
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
              429: "rate_limited", 500: "internal_error", 503: "unavailable"}
HTTP_MESSAGES = {400: "请求无效", 401: "未认证：请在 Authorization 头中提供 Bearer 令牌", 403: "无权访问此接口",
                 404: "接口不存在：{path}", 405: "接口 {path} 不支持 {method} 方法（允许：{allowed}）",
                 413: "请求体过大", 415: "不支持的请求内容类型，请发送 application/json", 429: "请求过于频繁，请稍后重试",
                 500: "服务器内部错误，请稍后重试", 503: "服务暂时不可用，请稍后重试"}


def http_error_response(status: int, message: str | None = None, headers: dict | None = None,
                        code: str | None = None, reference: str | None = None):
    """An HTTP error under /api in the envelope; without `message`, the API's own wording."""
    if not message:
        allowed = (headers or {}).get("Allow", "")
        message = HTTP_MESSAGES.get(status, "请求失败").format(path=request.path, method=request.method,
                                                           allowed=allowed or "—")
    return error_envelope(status, code or HTTP_CODES.get(status, "error"), message, headers=headers,
                          reference=reference)


def http_exception_message(exc: HTTPException) -> str:
    """The description a view gave abort(…, description=); Werkzeug's English default is not ours."""
    return exc.description if exc.description and exc.description != type(exc).description else ""


def internal_error_response(reference: str):
    """500 for an unhandled error (web.audit_hooks): the 异常日志 reference id, never the stack."""
    return error_envelope(500, "internal_error", "服务器内部错误；反馈问题时请提供参考编号（reference）",
                          reference=reference)


def unavailable_response(exc):
    """A limiter that cannot count refuses (503 + Retry-After): the one envelope under /api,
    the plain message elsewhere (platform webhooks, public forms)."""
    if request.path.startswith("/api/"):
        response = error_envelope(exc.status, exc.code, exc.message)
    else:
        response = current_app.response_class(exc.message, status=exc.status, mimetype="text/plain")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def ok(payload, status: int = 200):
    response = jsonify(payload)
    response.status_code = status
    return response


def can_see_pii() -> bool:
    return "pii.view" in g.get("permissions", frozenset())


def masked(value):
    """Mobile numbers and e-mails masked unless the caller holds pii.view."""
    return value if can_see_pii() else mask_value(value)


def iso(value: datetime | None):
    return value.isoformat() if value else None


def write_and_reload(fn):
    """Runs one service call in a write transaction, then tells the engine to reload at once."""
    with services().db.write() as session:
        result = fn(session)
    runtime().invalidate()
    return result
