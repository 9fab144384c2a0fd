"""首页: today's counts at a glance."""
from __future__ import annotations

from flask import Blueprint, render_template

from web.auth.guards import login_required

bp = Blueprint("dashboard", __name__)


@bp.get("/")
@login_required
def index():
    return render_template("dashboard.html", counts={})
