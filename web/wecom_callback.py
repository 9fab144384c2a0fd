"""/wecom/callback/<corp_id>: where 企业微信 pushes events (the URL pasted into the self-built
app's 接收事件服务器 settings). No login and no CSRF: every call is checked against the corp's
Token and EncodingAESKey (integrations.wecom.callbacks). A refused call is answered 403 and
counted on the corp's page; an accepted one is answered "success" after its change is applied."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from integrations.errors import CallbackRefused, IntegrationNotFound
from integrations.wecom import callbacks, changes
from web.extensions import csrf, services

bp = Blueprint("wecom_callback", __name__)
csrf.exempt(bp)
log = logging.getLogger("cunkebao.wecom")


def _plain(text: str, status: int = 200) -> Response:
    return Response(text, status=status, content_type="text/plain; charset=utf-8")


@bp.get("/wecom/callback/<corp_id>")
def verify(corp_id: str):
    try:
        return _plain(callbacks.verify_url(services(), corp_id, request.args.to_dict()))
    except IntegrationNotFound as exc:
        return _plain(str(exc), 404)
    except CallbackRefused as exc:
        return _plain(f"refused: {exc.reason}", 403)


@bp.post("/wecom/callback/<corp_id>")
def receive(corp_id: str):
    body = request.stream.read(callbacks.MAX_BODY + 1)
    svc = services()
    try:
        accepted = callbacks.receive(svc, corp_id, request.args.to_dict(), body)
    except IntegrationNotFound as exc:
        return _plain(str(exc), 404)
    except CallbackRefused as exc:
        return _plain(f"refused: {exc.reason}", 403)
    result = changes.handle(svc, accepted)
    log.info("wecom callback applied", extra={"corp_id": corp_id, "result": result})
    return _plain("success")
