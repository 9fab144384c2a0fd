"""/api/v1/broadcasts: 1:1 消息群发 over the API — create (now or scheduled_at), read one with its
counts, its per-recipient delivery report (filter by state, paged) and cancel. The same rules as the
console: a token of a 业务员 reaches only their accounts' friends and sees only their own 群发."""
from __future__ import annotations

from flask import Blueprint, request
from sqlmodel import func, select

from config.clock import as_utc, parse_iso_instant
from conversations.broadcast import content as contents, runner, service
from conversations.broadcast.models import RECIPIENT_STATES, Broadcast, BroadcastRecipient
from crm.errors import CrmError
from web.api.common import BadRequest, error_response, int_arg, iso, json_body, ok
from web.api.examples import broadcasts as ex
from web.api.spec import ANY_OBJ, INT, NUM, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_broadcasts", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)
MANAGE = "broadcasts.manage"
FIELDS = {"name", "scene", "target", "content", "scheduled_at", "gap_min_seconds", "gap_max_seconds"}

BROADCAST_IN = {**obj({
    "name": STR, "scene": {**STR, "enum": ["activity", "holiday", "promotion", "care"]},
    "target": {**ANY_OBJ, "description": "{mode: tags, tag_ids, labels} / {mode: audience, audience: {include_tags, "
                                          "exclude_tags, rows}} / {mode: accounts, account_ids}"},
    "content": {**ANY_OBJ, "description": "{msg_type: text|image|link|miniprogram|content|quick_reply, text, "
                                           "material_id, url, title, description, appid, pagepath, content_item_id, "
                                           "quick_reply_id}"},
    "scheduled_at": {**STR, "description": "ISO 8601 时间（带时区）；不填为立即发送"},
    "gap_min_seconds": NUM, "gap_max_seconds": NUM}, ("name", "target", "content")),
    "additionalProperties": False,
    "example": {"name": "双十二活动通知", "scene": "activity", "target": {"mode": "tags", "tag_ids": [3], "labels": ["宝妈"]},
                "content": {"msg_type": "text", "text": "${name}您好，双十二活动今晚开始"}}}
COUNTS = obj({k: INT for k in RECIPIENT_STATES})
BROADCAST_OUT = {**obj({"id": INT, "name": STR, "scene": STR, "status": STR, "target": ANY_OBJ, "content": ANY_OBJ,
                        "summary": STR, "scheduled_at": STR, "started_at": STR, "finished_at": STR,
                        "recipient_count": INT, "gap_min_seconds": NUM, "gap_max_seconds": NUM, "reason": STR,
                        "counts": COUNTS}),
                 "example": {"id": 5, "name": "双十二活动通知", "scene": "activity", "status": "sending",
                             "recipient_count": 200, "scheduled_at": "2026-12-07T02:00:00+00:00",
                             "counts": {"pending": 0, "queued": 120, "deferred": 0, "sent": 78, "failed": 1, "skipped": 1}}}
RECIPIENT_OUT = obj({"friend_id": INT, "account_id": INT, "wxid": STR, "nickname": STR, "customer_id": INT,
                     "status": STR, "reason": STR, "command_id": INT, "due_at": STR, "updated_at": STR})


def _dict(session, row: Broadcast) -> dict:
    target = {k: v for k, v in (row.target or {}).items() if k != "scope_user_id"}
    return {"id": row.id, "name": row.name, "scene": row.scene, "status": row.status, "target": target,
            "content": row.content, "summary": contents.summary(session, row.content),
            "scheduled_at": iso(row.scheduled_at), "started_at": iso(row.started_at), "finished_at": iso(row.finished_at),
            "recipient_count": row.recipient_count, "gap_min_seconds": row.gap_min_seconds,
            "gap_max_seconds": row.gap_max_seconds, "reason": row.reason, "counts": service.counts(session, row.id)}


def _answer(broadcast_id: int, status: int = 200):
    svc, viewer = services(), current_viewer()
    with svc.db.write() as s:  # the counts follow each send's command at the moment of asking
        runner.refresh(s, service.get_broadcast(s, broadcast_id, viewer).id, as_utc(svc.now()))
    with svc.db.read() as s:
        return ok(_dict(s, service.get_broadcast(s, broadcast_id, viewer)), status)


@api_route(bp, "/broadcasts", "POST", "创建 1:1 消息群发（立即或定时）", "会话中心", body=BROADCAST_IN, permission=MANAGE,
           responses={"201": BROADCAST_OUT, "422": "字段无效（附字段名）"},
           operation_id="createBroadcast", examples=ex.CREATE_BROADCAST)
@api_auth(MANAGE)
def create_broadcast():
    data = json_body()
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise BadRequest(f"未知字段：{'、'.join(unknown)}", {k: "未知字段" for k in unknown}, status=422, code="invalid")
    when = data.get("scheduled_at")
    if when not in (None, ""):
        parsed = parse_iso_instant(when) if isinstance(when, str) else None
        if parsed is None:
            raise BadRequest("scheduled_at 应为带时区的 ISO 8601 时间", {"scheduled_at": "时间格式无效"}, status=422,
                             code="invalid")
        data = {**data, "scheduled_at": parsed}
    svc = services()
    with svc.db.write() as s:
        row = service.create(s, data, current_viewer(), svc.now(), svc.settings.timezone)
        bid, due = row.id, as_utc(row.scheduled_at) <= as_utc(svc.now())
    if due:
        runner.run(svc, bid, runner.INLINE_SECONDS)
    return _answer(bid, 201)


@api_route(bp, "/broadcasts/<int:broadcast_id>", "GET", "群发详情与各状态人数", "会话中心", permission=MANAGE,
           responses={"200": BROADCAST_OUT, "404": "群发不存在或无权查看"},
           operation_id="getBroadcast", examples=ex.GET_BROADCAST)
@api_auth(MANAGE)
def get_broadcast(broadcast_id):
    return _answer(broadcast_id)


@api_route(bp, "/broadcasts/<int:broadcast_id>/recipients", "GET", "群发投递报告（每位好友的状态与原因）", "会话中心",
           permission=MANAGE, query=[("state", "string", "状态：" + "/".join(RECIPIENT_STATES)), ("page", "integer", "页码"),
                                     ("size", "integer", "每页条数（最多 500）")],
           responses={"200": obj({"items": {"type": "array", "items": RECIPIENT_OUT}, "total": INT, "page": INT,
                                  "size": INT}), "404": "群发不存在或无权查看"},
           operation_id="listBroadcastRecipients", examples=ex.LIST_BROADCAST_RECIPIENTS)
@api_auth(MANAGE)
def recipients(broadcast_id):
    state = request.args.get("state") or None
    if state is not None and state not in RECIPIENT_STATES:
        raise BadRequest("查询参数 state 应为 " + " / ".join(RECIPIENT_STATES) + " 之一", {"state": "state 取值无效"})
    page, size = int_arg("page", 1), int_arg("size", 100, maximum=500)
    svc, viewer = services(), current_viewer()
    with svc.db.write() as s:
        runner.refresh(s, service.get_broadcast(s, broadcast_id, viewer).id, as_utc(svc.now()))
    with svc.db.read() as s:
        stmt = select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast_id)
        if state:
            stmt = stmt.where(BroadcastRecipient.status == state)
        total = s.exec(select(func.count()).select_from(stmt.subquery())).one()
        rows = s.exec(stmt.order_by(BroadcastRecipient.id).offset((page - 1) * size).limit(size)).all()
        items = [{"friend_id": r.friend_id, "account_id": r.account_id, "wxid": r.wxid, "nickname": r.nickname,
                  "customer_id": r.customer_id, "status": r.status, "reason": r.reason, "command_id": r.command_id,
                  "due_at": iso(r.due_at), "updated_at": iso(r.updated_at)} for r in rows]
    return ok({"items": items, "total": int(total), "page": page, "size": size})


@api_route(bp, "/broadcasts/<int:broadcast_id>/cancel", "POST", "取消群发（尚未发出的不再发送）", "会话中心", permission=MANAGE,
           responses={"200": BROADCAST_OUT, "404": "群发不存在或无权查看", "422": "群发已结束"},
           operation_id="cancelBroadcast", examples=ex.CANCEL_BROADCAST)
@api_auth(MANAGE)
def cancel_broadcast(broadcast_id):
    svc = services()
    with svc.db.write() as s:
        service.cancel(s, broadcast_id, current_viewer(), svc.now())
    return _answer(broadcast_id)
