"""Probes and metrics for the machines that run us: /healthz (the process answers), /readyz (it
can take traffic and act on it: database, Redis, a live dispatcher and cron leader) and /metrics
(Prometheus text). No login: load balancers and Prometheus call them; /metrics answers loopback
callers, or anyone with CKB_METRICS_TOKEN as a bearer token."""
from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from config import metrics
from engine import readiness
from web.extensions import runtime
from web.metrics import scrape_registry

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    results = readiness.checks(runtime())
    ready = all(c.ok for c in results.values())
    body = {"status": "ok" if ready else "unavailable",
            "checks": {name: {"ok": c.ok, "detail": c.detail} for name, c in results.items()}}
    return jsonify(body), 200 if ready else 503


def _metrics_allowed() -> bool:
    token = runtime().settings.metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def prometheus_metrics():
    if not _metrics_allowed():
        return jsonify({"error": {"code": "forbidden", "message": "metrics are served to loopback or with the metrics token"}}), 403
    body = generate_latest(metrics.REGISTRY) + generate_latest(scrape_registry(runtime()))
    return Response(body, content_type=CONTENT_TYPE_LATEST)
