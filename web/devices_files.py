"""GET /devices/materials/<id> — how a phone fetches an image a command names.

Commands carry pictures as `material:<id>` (or `material_id`) rather than URLs, so nothing is
published; the phone downloads them here with its own device token, the same credential it
says hello with. Unknown tokens, unbound devices and missing files all answer 404 alike, so the
endpoint reveals nothing to a caller without a valid token.
"""
from __future__ import annotations

from flask import Blueprint, abort, request, send_file

from devices.content import ContentError
from devices.materials import file_path, get_material
from devices.registry import resolve_token
from web.extensions import services

bp = Blueprint("device_files", __name__)


def _device_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "device" else ""


@bp.get("/devices/materials/<int:material_id>")
def material(material_id: int):
    svc = services()
    with svc.db.read() as session:
        device = resolve_token(session, _device_token())
        if device is None or not device.enabled:
            abort(404)
        try:
            item = get_material(session, material_id)
        except ContentError:
            abort(404)
    path = file_path(svc.settings, item)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=item.mime or "application/octet-stream", download_name=item.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
