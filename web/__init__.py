"""控制台与接口: the Chinese web console for operators and the /api/v1 JSON API.

`create_app(settings)` builds the Flask app around one engine Runtime; each area is a
blueprint; a view parses the request, calls one service function, renders.
"""
from __future__ import annotations

from typing import Optional

from flask import Flask

from config.logging_setup import configure_logging
from config.settings import Settings, load_settings


def create_app(settings: Optional[Settings] = None, *, runtime=None, clock=None) -> Flask:
    from web.device_wiring import make_runtime
    from web.extensions import init_extensions
    from web.blueprints import register_blueprints
    from web.input_limits import init_input_limits

    settings = settings or load_settings()
    if runtime is None:
        runtime = make_runtime(settings, clock=clock)
    app = Flask(__name__, static_folder="static", template_folder="templates")
    if settings.trusted_proxy_hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config.update(
        SECRET_KEY=settings.resolved_secret_key(),
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=max(settings.max_body_bytes, 16 * 1024 * 1024),
        WTF_CSRF_TIME_LIMIT=None,
        JSON_AS_ASCII=False,
    )
    init_input_limits(app, settings.max_json_depth)
    app.extensions["ckb"] = runtime
    if not app.testing:
        configure_logging("DEBUG" if settings.debug else "INFO")
    init_extensions(app)
    register_blueprints(app)
    from web import input_guard
    from web.console import masking_filters

    masking_filters.register(app)
    input_guard.register(app)
    from web import audit_hooks; audit_hooks.init_audit(app)  # noqa: E702 - 操作日志/异常日志 (issue 14)
    return app
