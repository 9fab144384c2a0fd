"""GET/POST /mp/callback/<key>: the 服务器地址(URL) pasted into 公众平台 → 设置与开发 → 基本配置.
No login and no CSRF: every call is verified by its signature (integrations.mp.callback decides).
WeChat waits 5 s for an answer, so nothing slow runs before it; a new fan's details are fetched
on the integration's pool afterwards."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from integrations.errors import IntegrationError
from integrations.mp import callback, fans, runtime
from integrations.mp.guard import CallbackMemory
from web.extensions import csrf, services

bp = Blueprint("mp_callback", __name__)
csrf.exempt(bp)  # WeChat signs its calls; it has no session cookie to forge


def _memory() -> CallbackMemory:
    memory = current_app.extensions.get("ckb_mp_memory")
    if memory is None:
        memory = current_app.extensions["ckb_mp_memory"] = CallbackMemory(services().redis)
    return memory


@bp.get("/mp/callback/<key>")
def verify(key: str):
    answer = callback.verify_url(services(), key, request.args.to_dict())
    return Response(answer.text, status=answer.status, content_type="text/plain; charset=utf-8")


def _lookup(svc, account_id: int, openid: str) -> None:
    try:
        fans.lookup(svc, account_id, openid)
    except IntegrationError:
        pass  # the fan stays as the push described it; the next sync fills it in


@bp.post("/mp/callback/<key>")
def receive(key: str):
    svc = services()
    body = request.stream.read(svc.settings.max_body_bytes + 1)  # one byte over the cap is enough to refuse
    answer = callback.receive(svc, _memory(), key, request.args.to_dict(), body)
    if answer.new_openid:
        runtime.later(_lookup, svc, answer.account_id, answer.new_openid)
    return Response(answer.text, status=answer.status, content_type="text/plain; charset=utf-8")
