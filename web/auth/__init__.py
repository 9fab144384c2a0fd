"""登录与账号: sign-in with throttling, sessions, permission guards, API bearer tokens,
站内通知 and the console shell (menu, badge, security headers, error pages)."""
from __future__ import annotations

from flask import Flask


def register_auth(app: Flask) -> None:
    from web.auth import account, views
    from web.auth.flash_store import init_flash_store
    from web.auth.security_headers import init_security_headers
    from web.auth.session import load_current_user
    from web.auth.shell import init_shell

    init_flash_store(app)
    app.before_request(load_current_user)
    app.register_blueprint(views.bp)
    app.register_blueprint(account.bp)
    init_shell(app)
    init_security_headers(app)
