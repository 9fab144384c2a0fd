"""/api/v1/devices and /api/v1/device-commands: 设备管理 over the API — the phones (online /
offline / unbound, last heartbeat, battery, network, the WeChat accounts on each), one device with
its status history, the 重启 / 解绑 commands the console's buttons send (through the risk budget,
like every command), and the commands themselves read back by id or listed with filters (status,
kind, account, device) so a client can follow a command to 成功 / 失败. Commands and accounts are
scoped like the console's friends: without accounts.manage or conversations.view_all a token sees
only the accounts assigned to its user (conversations.account_scope)."""
from __future__ import annotations

from flask import Blueprint, g, request

from conversations import account_scope
from devices import device_admin
from devices.commands import COMMAND_KINDS, CommandError
from devices.models import DeviceCommand, WechatAccount
from web.api.common import BadRequest, int_arg, iso, masked, ok
from web.api.lookups import budgeted, found, register_errors
from web.api.spec import ANY_OBJ, BOOL, INT, STR, api_route, obj
from web.auth.guards import api_auth, api_error, current_viewer
from web.extensions import services
from web.input_limits import INT_MAX

bp = Blueprint("api_devices", __name__, url_prefix="/api/v1")
register_errors(bp)
bp.register_error_handler(CommandError, lambda exc: api_error(422, "invalid", exc.message))
VIEW, MANAGE = "devices.view", "devices.manage"
TAG = "设备与微信号"
STATUSES = ("online", "offline", "unbound")

ACCOUNT_REF = obj({"id": INT, "wxid": STR, "nickname": STR, "status": STR, "health_score": INT})
DEVICE_EXAMPLE = {"id": 2, "name": "销售1号机", "enabled": True, "online": True, "last_seen_at": "2026-12-07T06:30:00+00:00",
                  "battery": 86, "network": "wifi", "app_version": "1.4.2", "model": "Redmi Note 12", "remark": "",
                  "token_prefix": "ckbd_3f9a", "created_at": "2026-11-20T02:00:00+00:00",
                  "accounts": [{"id": 3, "wxid": "wxid_sales01", "nickname": "小美（客服1）", "status": "normal",
                                "health_score": 92}]}
DEVICE_OUT = {**obj({"id": INT, "name": STR, "enabled": {**BOOL, "description": "false = 已解绑"}, "online": BOOL,
                     "last_seen_at": {**STR, "nullable": True}, "battery": {**INT, "nullable": True}, "network": STR,
                     "app_version": STR, "model": STR, "remark": STR,
                     "token_prefix": {**STR, "description": "令牌前缀（完整令牌只在添加时显示一次）"}, "created_at": STR,
                     "accounts": {"type": "array", "items": ACCOUNT_REF}}), "example": DEVICE_EXAMPLE}
LOG_OUT = obj({"kind": STR, "kind_label": STR, "message": STR, "created_at": STR})
COMMAND_EXAMPLE = {"id": 5012, "account_id": 3, "device_id": 2, "kind": "restart", "payload": {}, "status": "sent",
                   "status_label": "已下发", "reason": "", "error": "", "result": {}, "source": "manual",
                   "not_before": None, "created_at": "2026-12-07T06:31:00+00:00", "sent_at": "2026-12-07T06:31:00+00:00",
                   "acked_at": None, "finished_at": None}
COMMAND_OUT = {**obj({"id": INT, "account_id": INT, "device_id": {**INT, "nullable": True}, "kind": STR,
                      "payload": ANY_OBJ, "status": {**STR, "enum": list(device_admin.COMMAND_STATUS_LABELS)},
                      "status_label": STR, "reason": {**STR, "description": "延后 / 拒绝的原因（风控）"}, "error": STR,
                      "result": ANY_OBJ, "source": STR, "not_before": {**STR, "nullable": True}, "created_at": STR,
                      "sent_at": {**STR, "nullable": True}, "acked_at": {**STR, "nullable": True},
                      "finished_at": {**STR, "nullable": True}}), "example": COMMAND_EXAMPLE}
ISSUED_OUT = {**obj({"device_id": INT, "command": {**COMMAND_OUT, "nullable": True,
                                                   "description": "设备上没有微信号时为 null（解绑仍然生效）"}}),
              "example": {"device_id": 2, "command": COMMAND_EXAMPLE}}


def command_dict(c: DeviceCommand) -> dict:
    return {"id": c.id, "account_id": c.account_id, "device_id": c.device_id, "kind": c.kind,
            "payload": masked(c.payload or {}), "status": c.status,
            "status_label": device_admin.COMMAND_STATUS_LABELS.get(c.status, (c.status,))[0], "reason": c.reason,
            "error": masked(c.error), "result": masked(c.result or {}), "source": c.source,
            "not_before": iso(c.not_before), "created_at": iso(c.created_at), "sent_at": iso(c.sent_at),
            "acked_at": iso(c.acked_at), "finished_at": iso(c.finished_at)}


def _device_dict(d, accounts: list[WechatAccount], visible: set[int] | None) -> dict:
    return {"id": d.id, "name": d.name, "enabled": d.enabled, "online": d.online, "last_seen_at": iso(d.last_seen_at),
            "battery": d.battery, "network": d.network, "app_version": d.app_version, "model": d.model,
            "remark": d.remark, "token_prefix": d.token_prefix, "created_at": iso(d.created_at),
            "accounts": [{"id": a.id, "wxid": a.wxid, "nickname": a.nickname, "status": a.status,
                          "health_score": a.health_score} for a in accounts if visible is None or a.id in visible]}


def _visible(session) -> set[int] | None:
    viewer = current_viewer()
    if account_scope.sees_all(viewer):
        return None
    return set(session.exec(account_scope.visible_account_ids(viewer)).all())


def _device(session, device_id: int):
    return found(lambda: device_admin.get_device(session, device_id), "设备", device_id)


@api_route(bp, "/devices", "GET", "设备列表（离线的在前；状态、关键字筛选；含统计）", TAG, permission=VIEW,
           operation_id="listDevices",
           query=[("status", "string", "online 在线 / offline 离线 / unbound 已解绑"), ("q", "string", "名称、型号或备注的片段")],
           responses={"200": {**obj({"items": {"type": "array", "items": DEVICE_OUT},
                                     "summary": obj({"total": INT, "online": INT, "offline": INT, "accounts": INT})}),
                              "example": {"items": [DEVICE_EXAMPLE],
                                          "summary": {"total": 1, "online": 1, "offline": 0, "accounts": 1}}}},
           examples={"200": {"items": [DEVICE_EXAMPLE], "summary": {"total": 1, "online": 1, "offline": 0, "accounts": 1}}})
@api_auth(VIEW)
def list_devices():
    status = request.args.get("status") or ""
    if status and status not in STATUSES:
        raise BadRequest("查询参数 status 应为 online / offline / unbound 之一", {"status": "status 取值无效"})
    with services().db.read() as s:
        rows = device_admin.list_devices(s, status=status, keyword=(request.args.get("q") or "").strip()[:100])
        stats, visible = device_admin.summary(s), _visible(s)
        items = [_device_dict(r.device, r.accounts, visible) for r in rows]
    return ok({"items": items, "summary": {"total": stats.total, "online": stats.online, "offline": stats.offline,
                                           "accounts": stats.accounts}})


@api_route(bp, "/devices/<int:device_id>", "GET", "设备详情（微信号、最近的上线 / 离线记录与日志）", TAG, permission=VIEW,
           operation_id="getDevice",
           responses={"200": {**obj({**DEVICE_OUT["properties"], "logs": {"type": "array", "items": LOG_OUT}}),
                              "example": {**DEVICE_EXAMPLE, "logs": [{"kind": "online", "kind_label": "上线",
                                                                      "message": "设备上线", "created_at": "2026-12-07T06:00:00+00:00"}]}},
                      "404": "设备不存在"}, examples={"200": DEVICE_EXAMPLE})
@api_auth(VIEW)
def get_device(device_id):
    with services().db.read() as s:
        d = _device(s, device_id)
        out = _device_dict(d, device_admin.device_accounts(s, d.id), _visible(s))
        out["logs"] = [{"kind": lg.kind, "kind_label": device_admin.LOG_KIND_LABELS.get(lg.kind, lg.kind),
                        "message": masked(lg.message), "created_at": iso(lg.created_at)}
                       for lg in device_admin.device_logs(s, d.id, limit=50)]
    return ok(out)


def _issue(device_id: int, kind: str):
    svc = services()
    user_id = g.user.id
    with svc.db.read() as s:
        _device(s, device_id)
    command = budgeted(lambda s: device_admin.send_device_command(s, device_id, kind, user_id, svc.now(), svc.settings))
    if command is not None:
        with svc.db.read() as s:
            command = s.get(DeviceCommand, command.id)
    return ok({"device_id": device_id, "command": command_dict(command) if command is not None else None}, 201)


@api_route(bp, "/devices/<int:device_id>/restart", "POST", "重启设备（经风控预算下发；返回指令，可按编号查询结果）", TAG,
           permission=MANAGE, operation_id="restartDevice",
           responses={"201": ISSUED_OUT, "404": "设备不存在", "422": "设备已解绑或没有微信号", "503": "风控服务暂不可用"},
           examples={"201": ISSUED_OUT["example"]})
@api_auth(MANAGE)
def restart_device(device_id):
    return _issue(device_id, "restart")


@api_route(bp, "/devices/<int:device_id>/unbind", "POST", "解绑设备（令牌作废，手机不能再连接；在线时下发解绑指令）", TAG,
           permission=MANAGE, operation_id="unbindDevice",
           responses={"201": ISSUED_OUT, "404": "设备不存在", "422": "设备已解绑", "503": "风控服务暂不可用"},
           examples={"201": {"device_id": 2, "command": {**COMMAND_EXAMPLE, "kind": "unbind"}}})
@api_auth(MANAGE)
def unbind_device(device_id):
    return _issue(device_id, "unbind")


@api_route(bp, "/device-commands", "GET", "设备指令（新的在前；按状态、类型、微信号、设备筛选）", TAG, permission=VIEW,
           operation_id="listDeviceCommands",
           query=[("status", "string", "/".join(device_admin.COMMAND_STATUS_LABELS)), ("kind", "string", "指令类型"),
                  ("account_id", "integer", "微信号"), ("device_id", "integer", "设备"), ("page", "integer", "页码"),
                  ("per_page", "integer", "每页条数（最多 200）")],
           responses={"200": {**obj({"items": {"type": "array", "items": COMMAND_OUT}, "page": INT, "per_page": INT}),
                              "example": {"items": [COMMAND_EXAMPLE], "page": 1, "per_page": 50}}},
           examples={"200": {"items": [COMMAND_EXAMPLE], "page": 1, "per_page": 50}})
@api_auth(VIEW)
def list_device_commands():
    status, kind = request.args.get("status") or "", request.args.get("kind") or ""
    if status and status not in device_admin.COMMAND_STATUS_LABELS:
        raise BadRequest("查询参数 status 取值无效", {"status": "应为 " + "/".join(device_admin.COMMAND_STATUS_LABELS)})
    if kind and kind not in COMMAND_KINDS:
        raise BadRequest("查询参数 kind 取值无效", {"kind": "未知的指令类型"})
    page, per_page = int_arg("page", 1), int_arg("per_page", 50, maximum=200)
    with services().db.read() as s:
        rows = account_scope.list_commands(s, current_viewer(), account_id=int_arg("account_id", maximum=INT_MAX),
                                           device_id=int_arg("device_id", maximum=INT_MAX), status=status, kind=kind,
                                           page=page, per_page=per_page)
        return ok({"items": [command_dict(c) for c in rows], "page": page, "per_page": per_page})


@api_route(bp, "/device-commands/<int:command_id>", "GET", "指令状态（排队 / 已下发 / 成功 / 失败 / 延后及原因）", TAG,
           permission=VIEW, operation_id="getDeviceCommand",
           responses={"200": COMMAND_OUT, "404": "指令不存在（或不属于你的微信号）"}, examples={"200": COMMAND_EXAMPLE})
@api_auth(VIEW)
def get_device_command(command_id):
    with services().db.read() as s:
        return ok(command_dict(found(lambda: account_scope.load(s, current_viewer(), DeviceCommand, command_id),
                                     "指令", command_id)))
