"""审计 wiring of the app: every write request (POST/PUT/PATCH/DELETE) by a signed-in user or a
bearer token runs inside an audit context, so crm.audit.recorder logs the objects it changes;
a write that changed nothing through the ORM still leaves one request-level 操作日志 row; an
unhandled exception becomes an 异常日志 row and a 500 answer carrying its 参考编号 (never the
stack)."""
from __future__ import annotations

import logging
import secrets

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

from crm.audit import recorder
from crm.audit.incidents import new_reference, record_error
from web.extensions import services

log = logging.getLogger(__name__)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _actor():
    user = g.get("user")
    return (user.id, user.username) if user is not None else None


def _begin():
    if request.method not in WRITE_METHODS or request.endpoint in (None, "static"):
        return None
    ctx = recorder.AuditContext(
        request_id=secrets.token_hex(8), method=request.method, endpoint=request.endpoint or "",
        path=request.full_path.rstrip("?"), ip=request.remote_addr or "",
        via="api" if request.path.startswith("/api/") else "console", actor=_actor)
    g.audit_token = recorder.activate(ctx)
    return None


def _close():
    token = g.pop("audit_token", None)
    if token is not None:
        recorder.deactivate(token)


def _finish(response):
    ctx = recorder.current()
    if ctx is None or g.get("audit_token") is None:
        return response
    _close()
    actor = _actor()
    if actor is None or ctx.committed:
        return response
    try:
        # A write that changed nothing (refused, invalid, a no-op): still who tried what, and
        # with which answer.
        with services().db.write() as session:
            session.add(recorder.OperationLog(**ctx.row(actor, action="request", status_code=response.status_code)))
    except Exception:  # noqa: BLE001 - the request's own answer must not turn into a 500 here
        log.exception("operation log row for %s %s not written", ctx.method, ctx.path)
    return response


def _teardown(_exc):
    _close()


def handle_unexpected(exc: Exception):
    """Any exception no other handler claimed: logged under a reference id the user is shown."""
    from web.auth.shell import handle_http_error

    if isinstance(exc, HTTPException):
        return handle_http_error(exc)
    svc = services()
    now = svc.now()
    reference = new_reference(now)
    log.error("unhandled error %s on %s %s", reference, request.method, request.path, exc_info=exc)
    user = g.get("user")
    try:
        record_error(svc.db, exc, reference=reference, now=now, method=request.method, endpoint=request.endpoint or "",
                     path=request.full_path.rstrip("?"), ip=request.remote_addr or "",
                     user_id=getattr(user, "id", None), username=getattr(user, "username", "") or "")
    except Exception:  # noqa: BLE001 - the database may be what broke; the page must still answer
        log.exception("error log row %s not written", reference)
    if request.path.startswith("/api/"):
        from web.api.common import internal_error_response

        return internal_error_response(reference)
    message = "系统处理时出现意外错误，已自动记录。请稍后重试；问题持续时请把参考编号告诉管理员。"
    try:
        return render_template("errors/error.html", code=500, title="服务器出错了", reference=reference,
                               message=message), 500
    except Exception:  # noqa: BLE001 - the layout itself may need what broke (menu, database)
        log.exception("error page for %s not rendered", reference)
        return f"服务器出错了。{message}参考编号：{reference}", 500, {"Content-Type": "text/plain; charset=utf-8"}


def init_audit(app: Flask) -> None:
    recorder.install()
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_teardown)
    app.register_error_handler(Exception, handle_unexpected)
