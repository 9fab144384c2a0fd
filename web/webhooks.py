"""POST /webhooks/<adapter_key>: where Douyin, the shop, the phone system, form tools, WeChat Pay
and Alipay push leads and payments. No login and no CSRF: each call carries its platform's
signature, checked with the scene's secret (crm.leads.webhook_guard does all the deciding).

Platforms are configured with /webhooks/<key>, or /webhooks/<key>?scene=<scene key> when more
than one enabled scene of the same type exists.
"""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from crm.errors import CrmError
from crm.leads.webhook_guard import WebhookCall, receive
from engine.outbound_calls import CallbackRefused, callback_url, dial_soon, receive_callback
from web.extensions import csrf, rate_limiter, services

bp = Blueprint("webhooks", __name__)
csrf.exempt(bp)  # platforms sign their calls; they have no session cookie to forge


@bp.post("/webhooks/<adapter_key>")
def receive_webhook(adapter_key: str):
    cap = services().settings.max_body_bytes
    # Never more than the cap plus one byte is read: one byte over is enough to refuse it.
    body = request.stream.read(cap + 1)
    call = WebhookCall(adapter_key=adapter_key, body=body, headers=request.headers,
                       client_ip=request.remote_addr or "", scene_key=request.args.get("scene") or None)
    reply = receive(services(), rate_limiter(), call)
    status, text, content_type = reply.answer
    return Response(text, status=status, content_type=content_type, headers=reply.headers)


@bp.post("/webhooks/cti/outbound")
def outbound_call_status():
    """电话获客 outbound: the CTI's signed call progress (engine/outbound_calls.py has the wire format).
    A finished call frees its seat, so the next number is dialled at once, not at the next minute."""
    cap = services().settings.max_body_bytes
    body = request.stream.read(cap + 1)
    if len(body) > cap:
        return jsonify(result="error", reason="body", message="回调内容过大"), 413
    try:
        record = receive_callback(services(), request.headers, body)
    except CallbackRefused as exc:
        return jsonify(result="error", reason=exc.reason, message=exc.message), exc.status
    except CrmError as exc:
        return jsonify(result="error", reason="invalid", message=exc.message, errors=exc.errors), exc.status
    if record.status == "ended":
        dial_soon(services(), callback_url(services().settings, request.host_url))
    return jsonify(result="ok", call_id=record.call_id, status=record.status)
