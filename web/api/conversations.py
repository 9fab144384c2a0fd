"""/api/v1/conversations: 触客宝 over the API (bearer token) — the caller's conversations with
filters, a conversation's messages (paging back with `before`), sending in it (through the risk
budget; `client_key` makes a retry send once) and transferring it to a colleague. A 业务员's
token sees the conversations of the accounts assigned to them and those transferred to them;
another's conversation answers 404 like an unknown id."""
from __future__ import annotations

from flask import Blueprint, request

from conversations import chat_list, chat_send, chat_thread, transfer as transfer_service
from conversations.errors import ConversationError
from conversations.models import CHANNELS
from crm.errors import CrmError
from devices.budget_plan import BudgetUnavailable, write_with_budget
from web.api.common import BadRequest, error_envelope, error_response, int_arg, json_body, masked, ok
from web.api.orders import _json, _refuse_unknown
from web.api.examples import conversations as ex
from web.api.spec import INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_conversations", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)  # ConversationError 422, ConversationNotFound 404

CONVERSATION_OUT = {"type": "object", "additionalProperties": True, "example": {
    "id": 41, "channel": "wechat", "channel_label": "个人微信", "kind": "private", "title": "陈女士",
    "peer_id": "wxid_lead01", "account_id": 3, "account": "小美（客服1）", "customer_id": 12,
    "last_message_at": "2026-12-07T06:30:00+00:00", "last_message_text": "价格多少", "last_direction": "in",
    "unread_count": 2, "unreplied": True, "assignee_id": None, "tags": ["意向客户"]}}
MESSAGE_OUT = {"type": "object", "additionalProperties": True, "example": {
    "id": 901, "conversation_id": 41, "direction": "out", "msg_type": "text", "text": "您好，套餐 199 元",
    "payload": {}, "sender_name": "小美", "sent_at": "2026-12-07T06:31:00+00:00", "status": "deferred",
    "status_label": "已延后", "reason": "发送间隔：距上一条不足 7 秒，已排到 14:31:07", "command_id": 5012}}
SEND_IN = {**obj({"kind": {"type": "string", "enum": list(chat_send.KINDS), "description": "text（默认）/ image / link / miniprogram / content"},
                  "text": STR, "at_wxids": {"type": "array", "items": STR, "description": "群聊中 @ 的成员 wxid"},
                  "material_id": {**INT, "description": "图片素材编号（kind=image）"},
                  "url": STR, "title": STR, "description": STR, "appid": STR, "pagepath": STR,
                  "content_item_id": {**INT, "description": "内容库编号（kind=content）"},
                  "client_key": {**STR, "description": "客户端为每条消息生成的标识（8–64 位）：重试时不会重复发送"}}),
           "additionalProperties": False, "example": {"kind": "text", "text": "您好，套餐 199 元", "client_key": "k7d0c2a9e41b"}}
TRANSFER_IN = {**obj({"to_user_id": INT, "note": STR}, ("to_user_id",)), "additionalProperties": False,
               "example": {"to_user_id": 7, "note": "客户咨询售后，请跟进"}}
LIST_QUERY = [("show", "string", "unreplied 未回复 / unread 未读 / mine 我的客户"), ("account_id", "integer", "微信号"),
              ("tag_id", "integer", "客户标签"), ("channel", "string", "渠道：" + "/".join(CHANNELS)),
              ("q", "string", "会话名称"), ("page", "integer", "页码"), ("size", "integer", "每页条数（最多 200）")]


@api_route(bp, "/conversations", "GET", "会话列表（最近活跃在前；筛选：未回复 / 未读 / 我的客户 / 账号 / 标签 / 渠道）", "触客宝",
           permission="conversations.view", query=LIST_QUERY,
           responses={"200": obj({"items": {"type": "array", "items": CONVERSATION_OUT}, "page": INT, "size": INT})},
           operation_id="listConversations", examples=ex.LIST_CONVERSATIONS)
@api_auth("conversations.view")
def list_conversations():
    page, size = int_arg("page", 1), int_arg("size", 50, maximum=200)
    show = request.args.get("show") or ""
    if show not in chat_list.FILTERS:
        raise BadRequest("查询参数 show 应为 unreplied / unread / mine 之一", {"show": "show 取值无效"})
    channel = request.args.get("channel") or ""
    if channel and channel not in CHANNELS:
        raise BadRequest("查询参数 channel 应为 " + " / ".join(CHANNELS) + " 之一", {"channel": "channel 取值无效"})
    f = chat_list.ListFilter(show=show, account_id=int_arg("account_id"), tag_id=int_arg("tag_id"), channel=channel,
                             q=(request.args.get("q") or "").strip()[:50], limit=size, offset=(page - 1) * size)
    with services().db.read() as session:
        items = chat_list.list_conversations(session, current_viewer(), f)
    return ok(masked(_json({"items": items, "page": page, "size": size})))


@api_route(bp, "/conversations/<int:conversation_id>/messages", "GET", "会话消息（新到旧分页：before=消息编号取更早的一页；按时间正序返回）",
           "触客宝", permission="conversations.view",
           query=[("before", "integer", "取这条消息之前的消息"), ("size", "integer", "条数（最多 100）")],
           responses={"200": obj({"items": {"type": "array", "items": MESSAGE_OUT}, "more": {"type": "boolean"}}),
                      "404": "会话不存在（或不属于你）"},
           operation_id="listConversationMessages", examples=ex.LIST_CONVERSATION_MESSAGES)
@api_auth("conversations.view")
def list_messages(conversation_id):
    size = int_arg("size", chat_thread.PAGE, maximum=100)
    with services().db.read() as session:
        _conversation, items = chat_thread.thread(session, current_viewer(), conversation_id, int_arg("before"), size,
                                                          services().now())
    return ok(masked(_json({"items": items, "more": len(items) >= size})))


@api_route(bp, "/conversations/<int:conversation_id>/messages", "POST",
           "在会话中发送消息（经风控预算：过快则延后并注明原因；client_key 幂等）", "触客宝", body=SEND_IN,
           permission="conversations.view",
           responses={"201": MESSAGE_OUT, "404": "会话不存在（或不属于你）", "422": "内容无效（附字段名）；公众号超出 48 小时窗口",
                      "503": "风控服务暂不可用"},
           operation_id="sendConversationMessage", examples=ex.SEND_CONVERSATION_MESSAGE)
@api_auth("conversations.view")
def send_message(conversation_id):
    data = json_body()
    _refuse_unknown(data, SEND_IN["properties"])
    svc, viewer = services(), current_viewer()
    from flask import g
    name = g.user.display_name or g.user.username
    try:
        message = write_with_budget(svc.db, lambda s: chat_send.send_in_conversation(
            s, viewer, conversation_id, data, user_id=viewer.user_id, sender_name=name, now=svc.now(),
            settings=svc.settings),
            settings=svc.settings, redis=svc.redis, now=svc.now())
    except BudgetUnavailable as exc:
        return error_envelope(503, "unavailable", exc.message)
    with svc.db.read() as session:
        shown = chat_thread.load_messages(session, [message.id], svc.now())[0]
    return ok(masked(_json(shown)), 201)


@api_route(bp, "/conversations/<int:conversation_id>/transfer", "POST", "转接会话给同事（记录转接人与时间，并站内通知对方）",
           "触客宝", body=TRANSFER_IN, permission="conversations.view",
           responses={"200": CONVERSATION_OUT, "404": "会话不存在（或不属于你）", "422": "同事不存在或没有会话权限"},
           operation_id="transferConversation", examples=ex.TRANSFER_CONVERSATION)
@api_auth("conversations.view")
def transfer_conversation(conversation_id):
    from web.console.chat import colleagues
    data = json_body()
    _refuse_unknown(data, TRANSFER_IN["properties"])
    target = data.get("to_user_id")
    if not isinstance(target, int) or isinstance(target, bool):
        raise ConversationError("to_user_id 应为整数", {"to_user_id": "应为整数"})
    note = data.get("note") or ""
    if not isinstance(note, str):
        raise ConversationError("note 应为字符串", {"note": "应为字符串"})
    svc, viewer = services(), current_viewer()
    allowed = colleagues()
    with svc.db.write() as session:
        record = transfer_service.transfer(session, viewer, conversation_id, target, colleagues=allowed, note=note,
                                           now=svc.now())
        conversation_id = record.conversation_id
    # The caller may no longer see it (handed away from their own assignment): answer what it is now.
    from crm.scope import SYSTEM
    from conversations.chat_scope import get_conversation
    with svc.db.read() as session:
        item = chat_list.describe(session, [get_conversation(session, SYSTEM, conversation_id)], viewer)[0]
    return ok(masked(_json(item)))


