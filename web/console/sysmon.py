"""系统监控: which server processes run (web, worker, scheduler), their heartbeats and lag, whether
the deployment is ready (the same checks as /readyz), the backlog, and links to the logs."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from engine import readiness
from engine.heartbeats import KIND_LABELS, ROLE_LABELS, process_states, stale_after
from web.auth.guards import permission_required
from web.console.forms_common import read
from web.extensions import runtime

bp = Blueprint("sysmon", __name__)
CHECK_LABELS = {"database": "数据库", "redis": "Redis", "workers": "事件分发（worker）", "leader": "调度主节点"}


@bp.get("/system/monitor")
@permission_required("sysmon.view")
def index():
    rt = runtime()
    now = rt.services.now()
    stale = stale_after(rt.settings.process_heartbeat_seconds)

    def load(session):
        return process_states(session, now), readiness.queue_figures(session, now)

    states, queue = read(load)
    checks = readiness.checks(rt, states)
    gateway = rt.beacon_info.get("gateway_connections")
    return render_template("sysmon/index.html", states=states, queue=queue, checks=checks, check_labels=CHECK_LABELS,
                           ready=all(c.ok for c in checks.values()), kind_labels=KIND_LABELS, role_labels=ROLE_LABELS,
                           interval=rt.settings.process_heartbeat_seconds, stale_seconds=int(stale.total_seconds()),
                           gateway_connections=gateway() if gateway else None, owner=rt.owner,
                           endpoints=set(current_app.view_functions))
