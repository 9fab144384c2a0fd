"""GET /api/v1/docs — API 文档: Swagger UI over /api/v1/openapi.json.

Public like the document itself (an integrator reads it before they have a console account).
Swagger UI is vendored under web/static/vendor/swagger-ui (no CDN) and started by a static
script reading data-* attributes, so the page runs under the app's Content-Security-Policy
(scripts and styles only from this site, no inline script). "Try it out" calls the API on this
origin with the bearer token entered under Authorize.
"""
from __future__ import annotations

from flask import Blueprint, render_template, url_for

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.get("/docs")
def index():
    return render_template("api_docs/index.html", spec_url=url_for("api_openapi.openapi_document_get"))
