"""首页: today's events, matches and step results at a glance (today in the configured zone),
the latest events, and the way into each page."""
from __future__ import annotations

from flask import Blueprint, render_template

from engine.history import HistoryFilter, list_records, start_of_today
from web.auth.guards import permission_required
from engine.overview import today_counts
from web.console.forms_common import read
from web.extensions import runtime

bp = Blueprint("dashboard", __name__)


def _overview(session, since) -> dict:
    latest, _ = list_records(session, HistoryFilter(per_page=8))
    return {"counts": today_counts(session, since), "latest": latest}


@bp.get("/")
@permission_required("dashboard.view")
def index():
    rt = runtime()
    since = start_of_today(rt.services.now(), rt.settings.timezone)
    data = read(lambda s: _overview(s, since))
    unauthenticated = rt.ingestor.unauthenticated
    return render_template("home.html", **data, since=since, unauth_total=sum(unauthenticated.values()),
                           unauth_by_code=dict(unauthenticated))
