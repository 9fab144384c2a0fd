"""Console pages (Chinese), one blueprint per area."""
from __future__ import annotations

from flask import Flask


def register_console(app: Flask) -> None:
    from web.console import dashboard
    from web.console import users

    app.register_blueprint(dashboard.bp)
    app.register_blueprint(users.bp)
