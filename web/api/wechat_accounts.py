"""/api/v1/wechat-accounts and /api/v1/friend-requests: 微信号管理 over the API — accounts with
status, 健康分, today's adds / sends against the caps the score allows and their owner; one account
with its 健康分 history; the console's 暂停 / 恢复 / 负责人 actions; 好友请求 listed by status and
通过 (an accept_friend command through the risk budget) or 拒绝. Scope as 好友详情: without
accounts.manage or conversations.view_all a token sees only the accounts assigned to its user."""
from __future__ import annotations

from flask import Blueprint, g, request

from conversations import account_scope
from crm.people.models import User
from devices import accounts as service, friend_requests_admin as requests_service
from devices.health import band_label
from devices.models import DeviceCommand, FriendRequest, WechatAccount
from web.api.common import BadRequest, int_arg, iso, json_body, masked, ok
from web.api.devices import COMMAND_OUT, command_dict
from web.api.fields import checked, invalid
from web.api.lookups import budgeted, found, register_errors
from web.api.spec import INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services
from web.input_limits import INT_MAX

bp = Blueprint("api_wechat_accounts", __name__, url_prefix="/api/v1")
register_errors(bp)
VIEW, MANAGE = "accounts.view", "accounts.manage"
TAG = "设备与微信号"
REQUEST_STATUSES = tuple(requests_service.REQUEST_STATUS_LABELS)

USAGE = obj({"add_friend": INT, "send": INT})
ACCOUNT_EXAMPLE = {"id": 3, "wxid": "wxid_sales01", "alias": "xiaomei_kf1", "nickname": "小美（客服1）",
                   "mobile": "138****8000", "status": "normal", "status_label": "正常", "health_score": 92,
                   "health_band": "优秀", "paused_until": None, "pause_reason": "", "owner_user_id": 7, "device_id": 2,
                   "device_name": "销售1号机", "device_online": True, "friends_count": 1520, "groups_count": 12,
                   "usage": {"add_friend": 6, "send": 120}, "caps": {"add_friend": 20, "send": 500},
                   "created_at": "2026-11-20T02:00:00+00:00"}
ACCOUNT_OUT = {**obj({"id": INT, "wxid": STR, "alias": STR, "nickname": STR,
                      "mobile": {**STR, "description": "无 pii.view 时脱敏"},
                      "status": {**STR, "enum": list(service.STATUS_LABELS)}, "status_label": STR, "health_score": INT,
                      "health_band": STR, "paused_until": {**STR, "nullable": True}, "pause_reason": STR,
                      "owner_user_id": {**INT, "nullable": True}, "device_id": {**INT, "nullable": True},
                      "device_name": STR, "device_online": {"type": "boolean"}, "friends_count": INT,
                      "groups_count": INT, "usage": {**USAGE, "description": "今日已用（加好友、发消息）"},
                      "caps": {"type": "object", "additionalProperties": True, "description": "按健康分的每日上限"},
                      "created_at": STR}), "example": ACCOUNT_EXAMPLE}
HEALTH_OUT = obj({"delta": INT, "score_after": INT, "reason": STR, "created_at": STR})
PAUSE_IN = {**obj({"hours": {**INT, "minimum": 1, "maximum": service.MAX_PAUSE_HOURS}, "reason": {**STR, "maxLength": 200}},
                  ("hours",)), "additionalProperties": False, "example": {"hours": 24, "reason": "疑似风控，休息一天"}}
OWNER_IN = {**obj({"owner_user_id": {**INT, "nullable": True, "description": "负责人用户编号；null 为清除"}},
                  ("owner_user_id",)), "additionalProperties": False, "example": {"owner_user_id": 7}}
REQUEST_EXAMPLE = {"id": 41, "account_id": 3, "from_wxid": "wxid_lead01", "nickname": "陈女士", "greeting": "我是从抖音来的",
                   "source": "search", "source_label": "搜索", "status": "pending", "status_label": "待处理",
                   "handled_by": "", "created_at": "2026-12-07T06:00:00+00:00", "handled_at": None}
REQUEST_OUT = {**obj({"id": INT, "account_id": INT, "from_wxid": STR, "nickname": STR, "greeting": STR, "source": STR,
                      "source_label": STR, "status": {**STR, "enum": list(REQUEST_STATUSES)}, "status_label": STR,
                      "handled_by": {**STR, "description": "user:<编号> 或 rule:<编号>"}, "created_at": STR,
                      "handled_at": {**STR, "nullable": True}}), "example": REQUEST_EXAMPLE}
ACCEPTED_OUT = {**obj({"request": REQUEST_OUT, "command": COMMAND_OUT}),
                "example": {"request": {**REQUEST_EXAMPLE, "status": "accepted", "status_label": "已通过",
                                        "handled_by": "user:7"},
                            "command": {"id": 5013, "account_id": 3, "device_id": 2, "kind": "accept_friend",
                                        "status": "queued", "status_label": "排队中"}}}


def _account_dict(row: service.AccountRow) -> dict:
    a = row.account
    return {"id": a.id, "wxid": a.wxid, "alias": a.alias, "nickname": a.nickname, "mobile": masked(a.mobile or ""),
            "status": a.status, "status_label": service.STATUS_LABELS.get(a.status, a.status),
            "health_score": a.health_score, "health_band": band_label(a.health_score),
            "paused_until": iso(a.paused_until), "pause_reason": a.pause_reason, "owner_user_id": a.owner_user_id,
            "device_id": a.device_id, "device_name": row.device_name, "device_online": row.device_online,
            "friends_count": a.friends_count, "groups_count": a.groups_count, "usage": row.usage, "caps": row.caps,
            "created_at": iso(a.created_at)}


def _request_dict(r: FriendRequest) -> dict:
    return {"id": r.id, "account_id": r.account_id, "from_wxid": r.from_wxid, "nickname": r.nickname,
            "greeting": masked(r.greeting), "source": r.source,
            "source_label": requests_service.SOURCE_LABELS.get(r.source, r.source), "status": r.status,
            "status_label": requests_service.REQUEST_STATUS_LABELS.get(r.status, r.status),
            "handled_by": r.handled_by, "created_at": iso(r.created_at), "handled_at": iso(r.handled_at)}


def _load(session, model, object_id, label: str):
    return found(lambda: account_scope.load(session, current_viewer(), model, object_id), label, object_id)


def _row(session, account_id: int) -> dict:
    svc = services()
    return _account_dict(service.account_row(session, account_id, svc.now(), svc.settings))


@api_route(bp, "/wechat-accounts", "GET", "微信号列表（状态、健康分、今日用量与上限、负责人）", TAG, permission=VIEW,
           operation_id="listWechatAccounts",
           query=[("status", "string", "/".join(service.STATUS_LABELS)), ("q", "string", "昵称、wxid、微信号或手机号的片段"),
                  ("device_id", "integer", "设备"), ("owner_user_id", "integer", "负责人")],
           responses={"200": {**obj({"items": {"type": "array", "items": ACCOUNT_OUT}}), "example": {"items": [ACCOUNT_EXAMPLE]}},
                      "503": "风控服务（Redis）暂不可用，今日用量无法读取"},
           examples={"200": {"items": [ACCOUNT_EXAMPLE]}})
@api_auth(VIEW)
def list_wechat_accounts():
    status = request.args.get("status") or ""
    if status and status not in service.STATUS_LABELS:
        raise BadRequest("查询参数 status 取值无效", {"status": "应为 " + "/".join(service.STATUS_LABELS)})
    viewer, svc = current_viewer(), services()
    owner_id = int_arg("owner_user_id", maximum=INT_MAX)
    if not account_scope.sees_all(viewer):
        if owner_id not in (None, viewer.user_id):
            return ok({"items": []})
        owner_id = viewer.user_id
    with svc.db.read() as s:
        rows = service.list_accounts(s, svc.now(), svc.settings, keyword=(request.args.get("q") or "").strip()[:64],
                                     status=status, device_id=int_arg("device_id", maximum=INT_MAX), owner_id=owner_id)
        return ok({"items": [_account_dict(r) for r in rows]})


@api_route(bp, "/wechat-accounts/<int:account_id>", "GET", "微信号详情（含最近的健康分变化）", TAG, permission=VIEW,
           operation_id="getWechatAccount",
           responses={"200": {**obj({**ACCOUNT_OUT["properties"], "health_history": {"type": "array", "items": HEALTH_OUT}}),
                              "example": {**ACCOUNT_EXAMPLE, "health_history": [
                                  {"delta": -5, "score_after": 92, "reason": "操作过于频繁", "created_at": "2026-12-06T08:00:00+00:00"}]}},
                      "404": "微信号不存在（或不属于你）"}, examples={"200": ACCOUNT_EXAMPLE})
@api_auth(VIEW)
def get_wechat_account(account_id):
    with services().db.read() as s:
        account = _load(s, WechatAccount, account_id, "微信号")
        out = _row(s, account.id)
        out["health_history"] = [{"delta": h.delta, "score_after": h.score_after, "reason": h.reason,
                                  "created_at": iso(h.created_at)} for h in service.health_history(s, account.id)]
    return ok(out)


@api_route(bp, "/wechat-accounts/<int:account_id>/pause", "POST", "暂停微信号（期间不执行任何指令）", TAG, body=PAUSE_IN,
           permission=MANAGE, operation_id="pauseWechatAccount",
           responses={"200": ACCOUNT_OUT, "404": "微信号不存在", "422": "时长超出范围；已封号"},
           examples={"request": PAUSE_IN["example"], "200": {**ACCOUNT_EXAMPLE, "status": "paused", "status_label": "已暂停"}})
@api_auth(MANAGE)
def pause_wechat_account(account_id):
    raw = json_body()
    svc = services()
    with svc.db.write() as s:
        account = _load(s, WechatAccount, account_id, "微信号")
        data = checked(raw, PAUSE_IN)
        service.pause(s, account.id, data["hours"], data.get("reason") or "", svc.now())
        return ok(_row(s, account.id))


@api_route(bp, "/wechat-accounts/<int:account_id>/resume", "POST", "恢复已暂停的微信号", TAG, permission=MANAGE,
           operation_id="resumeWechatAccount", responses={"200": ACCOUNT_OUT, "404": "微信号不存在", "422": "已封号"},
           examples={"200": ACCOUNT_EXAMPLE})
@api_auth(MANAGE)
def resume_wechat_account(account_id):
    with services().db.write() as s:
        account = _load(s, WechatAccount, account_id, "微信号")
        service.resume(s, account.id)
        return ok(_row(s, account.id))


@api_route(bp, "/wechat-accounts/<int:account_id>/owner", "PUT", "设置微信号负责人", TAG, body=OWNER_IN, permission=MANAGE,
           operation_id="setWechatAccountOwner",
           responses={"200": ACCOUNT_OUT, "404": "微信号不存在", "422": "用户不存在"},
           examples={"request": OWNER_IN["example"], "200": ACCOUNT_EXAMPLE})
@api_auth(MANAGE)
def set_wechat_account_owner(account_id):
    raw = json_body()
    with services().db.write() as s:
        account = _load(s, WechatAccount, account_id, "微信号")
        owner = checked(raw, OWNER_IN).get("owner_user_id")
        if owner is not None and s.get(User, owner) is None:
            raise invalid("owner_user_id", f"用户 {owner} 不存在")
        service.set_owner(s, account.id, owner)
        s.flush()
        return ok(_row(s, account.id))


@api_route(bp, "/friend-requests", "GET", "好友请求（默认待处理；按状态、微信号筛选），分页", TAG, permission=VIEW,
           operation_id="listFriendRequests",
           query=[("status", "string", "/".join(REQUEST_STATUSES) + "/all"), ("account_id", "integer", "微信号"),
                  ("page", "integer", "页码"), ("per_page", "integer", "每页条数（最多 200）")],
           responses={"200": {**obj({"items": {"type": "array", "items": REQUEST_OUT}, "total": INT, "page": INT,
                                     "per_page": INT}),
                              "example": {"items": [REQUEST_EXAMPLE], "total": 1, "page": 1, "per_page": 20}}},
           examples={"200": {"items": [REQUEST_EXAMPLE], "total": 1, "page": 1, "per_page": 20}})
@api_auth(VIEW)
def list_friend_requests():
    status = request.args.get("status") or "pending"
    if status != "all" and status not in REQUEST_STATUSES:
        raise BadRequest("查询参数 status 取值无效", {"status": "应为 " + "/".join(REQUEST_STATUSES) + "/all"})
    page, per_page = int_arg("page", 1), int_arg("per_page", 20, maximum=200)
    with services().db.read() as s:
        rows, total = account_scope.list_requests(s, current_viewer(), status="" if status == "all" else status,
                                                  account_id=int_arg("account_id", maximum=INT_MAX), page=page,
                                                  per_page=per_page)
        return ok({"items": [_request_dict(r) for r in rows], "total": total, "page": page, "per_page": per_page})


@api_route(bp, "/friend-requests/<int:request_id>/accept", "POST", "通过好友请求（经风控预算下发 accept_friend 指令）", TAG,
           permission=MANAGE, operation_id="acceptFriendRequest",
           responses={"201": ACCEPTED_OUT, "404": "请求不存在", "422": "请求已处理；风控拒绝", "503": "风控服务暂不可用"},
           examples={"201": ACCEPTED_OUT["example"]})
@api_auth(MANAGE)
def accept_friend_request(request_id):
    svc, user_id = services(), g.user.id
    with svc.db.read() as s:
        _load(s, FriendRequest, request_id, "好友请求")
    command = budgeted(lambda s: requests_service.accept_request(s, request_id, user_id, svc.now(), svc.settings))
    with svc.db.read() as s:
        return ok({"request": _request_dict(s.get(FriendRequest, request_id)),
                   "command": command_dict(s.get(DeviceCommand, command.id))}, 201)


@api_route(bp, "/friend-requests/<int:request_id>/reject", "POST", "拒绝好友请求（微信没有拒绝：在这里关闭，不再通过）", TAG,
           permission=MANAGE, operation_id="rejectFriendRequest",
           responses={"200": REQUEST_OUT, "404": "请求不存在", "422": "请求已处理"},
           examples={"200": {**REQUEST_EXAMPLE, "status": "rejected", "status_label": "已拒绝", "handled_by": "user:7"}})
@api_auth(MANAGE)
def reject_friend_request(request_id):
    svc = services()
    with svc.db.write() as s:
        row = _load(s, FriendRequest, request_id, "好友请求")
        return ok(_request_dict(requests_service.reject_request(s, row.id, g.user.id, svc.now())))
