"""/api/social: the seed's 社群 endpoints (PRD-033 PR04/PR06) — the group list with activity and
群发助手 — under the same bearer tokens and error envelope as /api/v1 and documented in
/api/v1/openapi.json. A 业务员's token sees and sends to the groups of their own accounts only;
another's group answers like an unknown id."""
from __future__ import annotations

from flask import Blueprint, request

from community.activity.days import day_of
from community.groups import broadcast as service
from community.groups.listing import SORTS, GroupFilter, list_groups
from crm.errors import CrmError
from web.api.common import BadRequest, error_response, int_arg, json_body, ok
from web.api.orders import _json  # datetimes as ISO 8601
from web.api.examples import social as ex
from web.api.spec import INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_social", __name__, url_prefix="/api/social")
bp.register_error_handler(CrmError, error_response)

GROUP_OUT = {"type": "object", "additionalProperties": True, "example": {
    "id": 1001, "name": "宝妈交流群", "account_id": 3, "account": "运营小美", "group_owner": "运营小美（本号）",
    "owner_user_id": 5, "owner": "张店长", "members": 312, "today_messages": 48, "today_speakers": 17,
    "today_joins": 4, "today_quits": 1, "week_messages": 655, "week_speakers": 96, "week_joins": 21, "week_quits": 6,
    "lurker_rate": 69.2, "last_message_at": "2026-12-07T12:03:00+00:00", "tags": ["VIP"]}}
LIST_QUERY = [("account", "integer", "微信号ID"), ("owner", "integer", "负责人（员工）ID"),
              ("tag", "string", "群标签"), ("min_messages", "integer", "近7天消息数下限（含）"),
              ("max_messages", "integer", "近7天消息数上限（含）"), ("q", "string", "群名称包含"),
              ("sort", "string", "排序：" + " / ".join(SORTS)), ("page", "integer", "页码"),
              ("size", "integer", "每页条数（最多 200）")]
BROADCAST_IN = {**obj({
    "groupIds": {"type": "array", "items": INT, "description": "群ID（社群列表的 id），一次最多 CKB_GROUP_BROADCAST_MAX_GROUPS 个"},
    "msgType": {"type": "string", "enum": ["text", "image", "miniprogram", "link"]},
    "content": {"description": "text：文字；image：图片链接或 {url} / {materialId}；link：链接或 {url,title,desc,thumb}；"
                               "miniprogram：{appid,title,page,thumb}；任意类型也可 {contentId} 引用内容库"},
    "scheduledTime": {**STR, "format": "date-time", "description": "定时发送（带时区）；不填或已过为立即发送"}},
    ("groupIds", "msgType", "content")), "additionalProperties": False,
    "example": {"groupIds": [1001, 1002], "msgType": "text", "content": "今晚8点有盲盒秒杀活动",
                "scheduledTime": "2025-03-03T20:00:00Z"}}
REPORT_OUT = {"type": "object", "additionalProperties": True, "example": {
    "broadcastId": 7, "status": "done", "statusLabel": "已完成", "msgType": "text",
    "scheduledTime": "2026-12-07T12:00:00+00:00", "deadline": "2026-12-07T14:00:00+00:00", "total": 2,
    "delivered": 1, "failed": 1, "pending": 0, "deliveryRate": 50.0, "groups": [
        {"groupId": 1001, "groupName": "宝妈交流群", "accountId": 3, "account": "运营小美", "status": "delivered",
         "statusLabel": "已送达", "reason": "", "tries": 1, "deliveredAt": "2026-12-07T12:00:09+00:00"},
        {"groupId": 1002, "groupName": "二群", "accountId": 4, "account": "运营小王", "status": "failed",
         "statusLabel": "失败", "reason": "设备离线，截止 12-07 22:00 仍未上线，未送达", "tries": 1, "deliveredAt": None}]}}


@api_route(bp, "/groups", "GET", "社群列表（活跃度、潜水率；按微信号、负责人、活跃度区间、标签筛选，分页）", "社群",
           permission="community.view", query=LIST_QUERY,
           responses={"200": obj({"items": {"type": "array", "items": GROUP_OUT}, "total": INT, "page": INT, "size": INT})},
           operation_id="listSocialGroups", examples=ex.LIST_SOCIAL_GROUPS)
@api_auth("community.view")
def list_social_groups():
    sort = request.args.get("sort") or "messages"
    if sort not in SORTS:
        raise BadRequest(f"查询参数 sort 应为 {' / '.join(SORTS)} 之一", {"sort": "取值无效"})
    low, high = int_arg("min_messages", minimum=0), int_arg("max_messages", minimum=0)
    if low is not None and high is not None and low > high:
        raise BadRequest("min_messages 不能大于 max_messages", {"min_messages": "不能大于 max_messages"})
    flt = GroupFilter(account_id=int_arg("account"), owner_user_id=int_arg("owner"),
                      tag=(request.args.get("tag") or "").strip()[:32], min_messages=low, max_messages=high,
                      q=(request.args.get("q") or "").strip()[:64], sort=sort)
    page, size = int_arg("page", 1), int_arg("size", 20, maximum=200)
    svc = services()
    with svc.db.read() as session:
        items, total = list_groups(session, current_viewer(), flt, day_of(svc.now(), svc.settings.timezone), page, size)
    return ok(_json({"items": items, "total": total, "page": page, "size": size}))


@api_route(bp, "/groups/broadcast", "POST", "群发助手：向多个群发送文字/图片/小程序/链接，可定时（202 返回群发ID）", "社群",
           body=BROADCAST_IN, permission="community.manage",
           responses={"202": obj({"broadcastId": INT, "status": STR, "groups": INT}),
                      "422": "字段无效或群不存在（附字段名；不写入任何数据）"},
           operation_id="createGroupBroadcast", examples=ex.CREATE_GROUP_BROADCAST)
@api_auth("community.manage")
def create_broadcast():
    data = json_body()
    svc = services()
    now = svc.now()
    with svc.db.write() as session:
        row = service.create(session, current_viewer(), data, now, svc.settings)
        broadcast_id, count = row.id, len(data["groupIds"])
    if row.scheduled_at <= now:  # due now: the first try goes out at once, not at the next cron minute
        from devices.budget_plan import BudgetUnavailable, write_with_budget
        try:
            write_with_budget(svc.db, lambda s: service.dispatch(s, broadcast_id, now, svc.settings, svc.redis),
                              settings=svc.settings, redis=svc.redis, now=now)
        except BudgetUnavailable:  # Redis down: the cron job dispatches it once the budget answers
            pass
    with svc.db.read() as session:
        status = service.get(session, current_viewer(), broadcast_id).status
    return ok({"broadcastId": broadcast_id, "status": status, "groups": count}, 202)


@api_route(bp, "/groups/broadcast/<int:broadcast_id>", "GET", "群发送达报告：每个群的微信号、状态与原因", "社群",
           permission="community.view", responses={"200": REPORT_OUT, "404": "群发不存在或无权查看"},
           operation_id="getGroupBroadcastReport", examples=ex.GET_GROUP_BROADCAST_REPORT)
@api_auth("community.view")
def broadcast_report(broadcast_id):
    with services().db.read() as session:
        row = service.get(session, current_viewer(), broadcast_id)
        return ok(service.report(session, row))

