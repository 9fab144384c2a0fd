"""The lean path of POST /api/v1/events: a WSGI layer in front of Flask that answers signed
ingest requests itself.

The endpoint is called by machines at high rates, authenticates each request by its HMAC
signature (no cookie session, no signed-in user, no bearer token) and reads its raw body
itself. Flask's request context, URL matching over every route, the cookie session and the
per-request hooks (user load, form scan, audit context — 操作日志 records nothing for it) would
cost more than the ingestion itself and do nothing here, so this layer skips them. It keeps
what the answer owes: the same Ingestor call, the one error envelope, the security headers;
an unexpected error goes through the app's own handler (异常日志 row, 500 with its reference).
Any other method or path passes through to Flask unchanged, as does the documented view in
web.api.ingest (the OpenAPI operation, and the path a request takes when this layer is absent).
"""
from __future__ import annotations

import json

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_input_stream

from events.errors import IngestError, error_body
from events.ingestion import IngestRequest
from web.auth.security_headers import header_list

PATH = "/api/v1/events"


def _dumps(payload) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class LeanIngest:
    def __init__(self, flask_app, wsgi_app):
        self.flask_app = flask_app
        self.wsgi_app = wsgi_app  # what comes next (Flask's own wsgi_app, or the next middleware)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        try:
            status, payload, extra = self._ingest(environ)
        except Exception as exc:  # noqa: BLE001 - answered by the app's handler, as in any view
            return self._unexpected(environ, start_response, exc)
        body = _dumps(payload)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra,
                   *header_list(environ.get("wsgi.url_scheme") == "https")]
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, '')}", headers)
        return [body]

    def _ingest(self, environ) -> tuple[int, dict, list]:
        rt = self.flask_app.extensions["ckb"]
        limit = rt.settings.max_body_bytes
        try:
            length = int(environ.get("CONTENT_LENGTH") or "")
        except ValueError:
            length = None
        if length is not None and length > limit:
            return self._error(IngestError(400, "body_too_large", f"请求体过大：{length} 字节，上限 {limit} 字节"))
        # Bounded by Content-Length, or read up to limit + 1 for a chunked body (then refused by size).
        body = get_input_stream(environ, safe_fallback=False).read(limit + 1 if length is None else length)
        req = IngestRequest(body=body, app_key=environ.get("HTTP_X_APP_KEY"), timestamp=environ.get("HTTP_X_TIMESTAMP"),
                            signature=environ.get("HTTP_X_SIGNATURE"), client_ip=environ.get("REMOTE_ADDR") or "",
                            idempotency_key=environ.get("HTTP_IDEMPOTENCY_KEY"))
        try:
            result = rt.ingestor.ingest(req)
        except IngestError as exc:
            return self._error(exc)
        return result.status, result.payload, []

    @staticmethod
    def _error(exc: IngestError) -> tuple[int, dict, list]:
        # As web.api.common.error_envelope answers it.
        extra = [("WWW-Authenticate", 'Bearer realm="cunkebao"')] if exc.status == 401 else []
        return exc.status, error_body(exc.code, exc.message, details=exc.details), extra

    def _unexpected(self, environ, start_response, exc: Exception):
        app = self.flask_app
        with app.request_context(environ):
            try:
                app.preprocess_request()  # g.user etc., as the handler expects them
                response = app.make_response(app.handle_user_exception(exc))
            except Exception as again:  # noqa: BLE001 - the handler itself failed
                response = app.make_response(app.handle_exception(again))
            response = app.process_response(response)
            return response(environ, start_response)


def install(app) -> None:
    """Puts the lean path in front of the app's routing, behind any proxy fix-up (ProxyFix sets
    REMOTE_ADDR and the scheme, which the IP allowlist and HSTS need)."""
    outer = app.wsgi_app
    if hasattr(outer, "app") and not isinstance(outer, LeanIngest):  # werkzeug's ProxyFix
        outer.app = LeanIngest(app, outer.app)
    else:
        app.wsgi_app = LeanIngest(app, outer)
