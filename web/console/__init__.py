"""Console pages (Chinese), one blueprint per area."""
from __future__ import annotations

from flask import Flask


def register_console(app: Flask) -> None:
    from web.console import dashboard

    app.register_blueprint(dashboard.bp)
