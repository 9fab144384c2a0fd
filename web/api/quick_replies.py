"""/api/v1/quick-replies: the 快捷回复库 for the WeCom sidebar and other clients — the replies the
token's user may use (visibility by department), searched by ?q= (title / text / category), each
rendered for ?customer_id= (a customer the user may see; another's is 404 like an unknown id)."""
from __future__ import annotations

from flask import Blueprint, request

from conversations.quick_replies import rendering, service
from crm.errors import CrmError
from web.api.common import error_response, int_arg, ok
from web.api.examples import quick_replies as ex
from web.api.spec import INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_quick_replies", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)

REPLY_OUT = obj({"id": INT, "title": STR, "category": STR, "category_id": INT,
                 "template": {**STR, "description": "原文（含 ${变量}）"},
                 "text": {**STR, "description": "按客户资料渲染后的文字（未给 customer_id 时同原文）"},
                 "attachments": {"type": "array", "items": obj({"kind": STR, "id": INT, "title": STR, "msg_type": STR})},
                 "send_count": INT})
LIST_OUT = {**obj({"items": {"type": "array", "items": REPLY_OUT}}), "example": {"items": [
    {"id": 3, "title": "价格咨询", "category": "售前", "category_id": 1, "template": "${name}您好，这款现在活动价 199 元",
     "text": "张三您好，这款现在活动价 199 元", "attachments": [{"kind": "content", "id": 8, "title": "活动海报",
                                                         "msg_type": "image"}], "send_count": 42}]}}


@api_route(bp, "/quick-replies", "GET", "快捷回复（按客户渲染 ${变量}）", "会话中心", permission="conversations.view",
           query=[("q", "string", "搜索标题 / 内容 / 分类"), ("category_id", "integer", "分类（0 = 未分类）"),
                  ("customer_id", "integer", "按此客户渲染变量"), ("limit", "integer", "最多条数（默认 50，最多 200）")],
           responses={"200": LIST_OUT, "404": "客户不存在或无权查看"},
           operation_id="listQuickReplies", examples=ex.LIST_QUICK_REPLIES)
@api_auth("conversations.view")
def list_replies():
    viewer = current_viewer()
    customer_id = int_arg("customer_id", maximum=2 ** 63 - 1)
    flt = service.ReplyFilter((request.args.get("q") or "").strip()[:50], int_arg("category_id", minimum=0,
                                                                                  maximum=2 ** 63 - 1))
    limit = int_arg("limit", 50, maximum=200)
    with services().db.read() as s:
        return ok({"items": rendering.search_for_customer(s, viewer, flt, customer_id, limit)})
