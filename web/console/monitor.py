"""运行监控: the engine's day at a glance — today's events received and refused, strategies
matched, step results, dead letters and unsigned requests (today in the configured zone), and the
latest events. It used to be everyone's home; now it is its own page for those who watch the engine."""
from __future__ import annotations

from flask import Blueprint, render_template

from engine.history import HistoryFilter, list_records, start_of_today
from engine.overview import today_counts
from web.auth.guards import permission_required
from web.console.forms_common import read
from web.extensions import runtime

bp = Blueprint("monitor", __name__)


def _overview(session, since) -> dict:
    latest, _ = list_records(session, HistoryFilter(per_page=8))
    return {"counts": today_counts(session, since), "latest": latest}


@bp.get("/monitor")
@permission_required("monitor.view")
def index():
    rt = runtime()
    since = start_of_today(rt.services.now(), rt.settings.timezone)
    data = read(lambda s: _overview(s, since))
    unauthenticated = rt.ingestor.unauthenticated
    return render_template("monitor/index.html", **data, since=since, unauth_total=sum(unauthenticated.values()),
                           unauth_by_code=dict(unauthenticated))
