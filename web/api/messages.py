"""/api/v1/messages/search: 消息搜索 — the stored chat messages the token's user may read (scoped like
the chat console) whose text or link title contains `q`, newest first, with highlighted snippets.
Phone numbers and e-mails in the texts are masked unless the caller holds pii.view."""
from __future__ import annotations

from flask import Blueprint, request

from config.pii import mask_text
from conversations import search as service
from crm.errors import CrmError
from web.api.common import can_see_pii, error_response, int_arg, iso, masked, ok
from web.api.examples import messages as ex
from web.api.spec import BOOL, INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_messages", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)

HIT = obj({"message_id": INT, "conversation_id": INT, "conversation_title": STR, "conversation_kind": STR,
           "account_id": INT, "friend_id": {**INT, "nullable": True}, "customer_id": {**INT, "nullable": True},
           "direction": STR, "msg_type": STR, "sender_name": STR, "text": STR, "title": STR, "sent_at": STR,
           "snippet": {"type": "array", "items": obj({"text": STR, "match": BOOL})}})
RESULT = {**obj({"items": {"type": "array", "items": HIT}, "page": INT, "per_page": INT, "has_more": BOOL,
                 "total": {**INT, "description": f"命中条数，最多数到 {service.COUNT_CAP}"},
                 "total_capped": {**BOOL, "description": "命中超过上限，total 只是下限"}}),
          "example": {"items": [{"message_id": 81, "conversation_id": 12, "conversation_title": "李总",
                                 "conversation_kind": "private", "account_id": 1, "friend_id": 5, "customer_id": 9,
                                 "direction": "in", "msg_type": "text", "sender_name": "", "text": "请问价格多少？",
                                 "title": "", "sent_at": "2026-11-18T02:00:00+00:00",
                                 "snippet": [{"text": "请问", "match": False}, {"text": "价格", "match": True},
                                             {"text": "多少？", "match": False}]}],
                      "page": 1, "per_page": 20, "has_more": False, "total": 1, "total_capped": False}}


def _hit(h) -> dict:
    m, c = h.message, h.conversation
    return {"message_id": m.id, "conversation_id": c.id, "conversation_title": c.title, "conversation_kind": c.kind,
            "account_id": m.account_id, "friend_id": c.friend_id, "customer_id": c.customer_id,
            "direction": m.direction, "msg_type": m.msg_type, "sender_name": m.sender_name, "text": masked(m.text),
            "title": masked((m.payload or {}).get("title") or ""), "sent_at": iso(m.sent_at),
            "snippet": [{"text": t, "match": hit} for t, hit in h.snippet]}


@api_route(bp, "/messages/search", "GET", "消息搜索：在可查看的会话中按文字（含链接标题）搜索聊天记录，两个字起，最新的在前", "会话",
           permission="conversations.view",
           query=[("q", "string", "要搜索的文字（必填，最多 100 字；一个字时逐条扫描，较慢）"),
                  ("account", "integer", "微信号 ID"), ("conversation", "integer", "会话 ID"),
                  ("direction", "string", "in 收到 / out 发出"), ("since", "string", "开始日期 YYYY-MM-DD（北京时间，含）"),
                  ("until", "string", "结束日期 YYYY-MM-DD（含）"), ("page", "integer", "页码"),
                  ("per_page", "integer", f"每页条数，最多 {service.MAX_PER_PAGE}")],
           responses={"200": RESULT},
           operation_id="searchMessages", examples=ex.SEARCH_MESSAGES)
@api_auth("conversations.view")
def search_messages():
    flt = service.parse_filter(request.args)
    page, per_page = int_arg("page", 1), int_arg("per_page", 20, maximum=service.MAX_PER_PAGE)
    with services().db.read() as session:
        result = service.search_messages(session, current_viewer(), request.args.get("q", ""), flt, page, per_page,
                                         tz=services().settings.timezone, mask=None if can_see_pii() else mask_text)
        items = [_hit(h) for h in result.hits]
    return ok({"items": items, "page": result.page, "per_page": result.per_page, "has_more": result.has_more,
               "total": result.total, "total_capped": result.capped})
