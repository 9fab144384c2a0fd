"""POST /api/v1/events — the signed ingestion endpoint third parties integrate against."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, request

from events.errors import IngestError
from events.ingestion import IngestRequest
from web.api.common import error_envelope
from web.api.examples import ingest as ex
from web.api.ingest_fast import install as install_fast_path
from web.api.spec import ANY_OBJ, INT, OBJ_LIST, STR, api_route, obj
from web.extensions import csrf, runtime

bp = Blueprint("api_ingest", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
# Signed POSTs are answered by the lean WSGI path (web.api.ingest_fast) before Flask routing;
# the view below documents the operation and answers the same way if that path is absent.
bp.record_once(lambda state: install_fast_path(state.app))

EVENT = obj({"id": STR, "event": STR, "occurred_at": {"type": "string", "format": "date-time"}, "data": ANY_OBJ}, ("event",))
BODY = {"oneOf": [EVENT, obj({"events": {"type": "array", "items": EVENT, "maxItems": 1000}}, ("events",))]}
RESULT = obj({"accepted": {"type": "array", "items": obj({"index": INT, "id": STR, "record_id": INT})},
              "duplicates": OBJ_LIST, "rejected": OBJ_LIST})


@api_route(bp, "/events", "POST", "接入事件（单个或批量，HMAC 签名）", "事件接入", body=BODY, auth="hmac",
           responses={"202": RESULT, "400": "请求体错误", "401": "签名或时间戳错误", "403": "应用禁用或 IP 不允许",
                      "422": "单个事件校验失败，或 Idempotency-Key 已用于另一个不同的请求"},
           operation_id="ingestEvents", examples=ex.INGEST_EVENTS)
def ingest_events():
    rt = runtime()
    limit = rt.settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        return error_envelope(400, "body_too_large", f"请求体过大：{request.content_length} 字节，上限 {limit} 字节")
    body = request.stream.read(limit + 1) if request.content_length is None else request.get_data(cache=False)
    req = IngestRequest(
        body=body, app_key=request.headers.get("X-App-Key"), timestamp=request.headers.get("X-Timestamp"),
        signature=request.headers.get("X-Signature"), client_ip=request.remote_addr or "",
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    try:
        result = rt.ingestor.ingest(req)
    except IngestError as exc:
        return error_envelope(exc.status, exc.code, exc.message, details=exc.details)
    # The answer encoded directly (a batch answer lists every event): jsonify's pretty-printing
    # and key sorting cost more than the rest of a small request's view.
    return current_app.response_class(json.dumps(result.payload, ensure_ascii=False, separators=(",", ":")),
                                      status=result.status, mimetype="application/json")
