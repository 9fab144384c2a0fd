"""/api/v1/customers/<id>/follow-ups and /tasks: a customer's 跟进记录 (list, record one — which
finishes its task, counts on the customer and its groups, schedules the next 跟进任务 and emits
crm.followup_recorded, exactly as the console's form) and its 任务 (list, create). Another
salesperson's customer answers 404 like an unknown id, whatever the body says.

Times are ISO 8601; one without an offset is read in the configured zone. Dates are YYYY-MM-DD.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, g, request

from config.clock import from_local
from crm.errors import CrmError
from crm.sales import customer_work
from crm.sales.followups import STATUSES, WAYS
from crm.sales.models import PRIORITIES, TASK_STATUSES
from web.api.common import BadRequest, error_response, int_arg, iso, json_body, masked, ok
from web.api.customers import NULLABLE_STR, TAG
from web.api.customers_search import _refuse_unknown
from web.api.spec import INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_customer_work", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)

FOLLOW_FIELDS = {"content": {**STR, "maxLength": 2000}, "way": {"type": "string", "enum": list(WAYS)},
                 "status": {"type": "string", "enum": list(STATUSES)}, "maturity": {**INT, "minimum": 0, "maximum": 100},
                 "followed_at": {**STR, "description": "跟进时间（默认现在，不能晚于现在）"},
                 "next_follow_on": {**STR, "description": "下次跟进日期：生成一条跟进任务"},
                 "task_id": {**INT, "description": "完成的任务（须属于该客户）"}}
FOLLOW_IN = {**obj(FOLLOW_FIELDS, ("content",)), "additionalProperties": False}
FOLLOW_OUT = obj({"id": INT, "customer_id": INT, "task_id": {"type": "integer", "nullable": True}, "user_id": INT,
                  "followed_at": STR, **{k: FOLLOW_FIELDS[k] for k in ("way", "status", "maturity", "content")},
                  "next_follow_on": NULLABLE_STR})
FOLLOW_EXAMPLE = {"id": 31, "customer_id": 12, "task_id": None, "user_id": 5, "followed_at": "2026-12-07T02:00:00+00:00",
                  "way": "phone", "status": "intent", "maturity": 60, "content": "电话沟通，下周到店",
                  "next_follow_on": "2026-12-14"}
TASK_FIELDS = {"title": {**STR, "maxLength": 200}, "kind": {"type": "string", "enum": ["normal", "follow_up"]},
               "owner_id": {**INT, "description": "负责人（默认本人）"},
               "priority": {"type": "string", "enum": list(PRIORITIES)},
               "status": {"type": "string", "enum": list(TASK_STATUSES)},
               "progress": {**INT, "minimum": 0, "maximum": 100}, "deadline": STR, "remind_at": STR,
               "description": {**STR, "maxLength": 2000}}
TASK_IN = {**obj(TASK_FIELDS, ("title",)), "additionalProperties": False}
TASK_OUT = obj({"id": INT, "customer_id": INT, "creator_id": {"type": "integer", "nullable": True},
                **{k: v for k, v in TASK_FIELDS.items() if k not in ("deadline", "remind_at")},
                "deadline": NULLABLE_STR, "remind_at": NULLABLE_STR, "created_at": STR, "finished_at": NULLABLE_STR})
TASK_EXAMPLE = {"id": 40, "customer_id": 12, "title": "寄送样品", "kind": "follow_up", "owner_id": 5, "creator_id": 5,
                "priority": "high", "status": "todo", "progress": 0, "deadline": "2026-12-10T15:59:59+00:00",
                "remind_at": None, "description": "", "created_at": "2026-12-07T02:00:00+00:00", "finished_at": None}


def _when(data: dict, name: str):
    """An ISO 8601 time (aware, or naive in the configured zone) → aware UTC; absent → None."""
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        return from_local(datetime.fromisoformat(value), services().settings.timezone)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} 应为 ISO 8601 时间，如 2026-12-07T10:00:00+08:00", {name: "时间格式错误"},
                         status=422, code="invalid") from None


def _day(data: dict, name: str):
    value = data.get(name)
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{name} 应为日期，如 2026-12-14", {name: "日期格式错误"}, status=422, code="invalid") from None


def _typed(data: dict, fields: dict) -> None:
    """Strings stay strings and integers integers: the services would read "1" and True as numbers."""
    errors = {}
    for key, schema in fields.items():
        value = data.get(key)
        if value is None:
            continue
        if schema["type"] == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
            errors[key] = f"{key} 应为整数"
        elif schema["type"] == "string" and not isinstance(value, str):
            errors[key] = f"{key} 应为字符串"
    if errors:
        raise BadRequest("参数有误：" + "；".join(errors.values()), errors, status=422, code="invalid")


def _follow_up_input(data: dict) -> dict:
    _refuse_unknown(data, FOLLOW_FIELDS)
    _typed(data, FOLLOW_FIELDS)
    return {**data, "followed_at": _when(data, "followed_at"), "next_follow_on": _day(data, "next_follow_on")}


def _task_input(data: dict) -> dict:
    _refuse_unknown(data, TASK_FIELDS)
    _typed(data, TASK_FIELDS)
    return {**data, "deadline": _when(data, "deadline"), "remind_at": _when(data, "remind_at")}


def _follow_up(f) -> dict:
    return {"id": f.id, "customer_id": f.customer_id, "task_id": f.task_id, "user_id": f.user_id,
            "followed_at": iso(f.followed_at), "way": f.way, "status": f.status, "maturity": f.maturity,
            "content": f.content, "next_follow_on": f.next_follow_on.isoformat() if f.next_follow_on else None}


def _task(t) -> dict:
    return {"id": t.id, "customer_id": t.customer_id, "title": t.title, "kind": t.kind, "owner_id": t.owner_id,
            "creator_id": t.creator_id, "priority": t.priority, "status": t.status, "progress": t.progress,
            "deadline": iso(t.deadline), "remind_at": iso(t.remind_at), "description": t.description,
            "created_at": iso(t.created_at), "finished_at": iso(t.finished_at)}


@api_route(bp, "/customers/<int:customer_id>/follow-ups", "GET", "客户的跟进记录（新的在前）", TAG,
           permission="worktasks.view", query=[("limit", "integer", "条数（默认 50，最多 200）")],
           operation_id="listCustomerFollowUps",
           responses={"200": obj({"items": {"type": "array", "items": FOLLOW_OUT}}), "404": "客户不存在或无权查看"},
           examples={"200": {"items": [FOLLOW_EXAMPLE]}})
@api_auth("worktasks.view")
def list_follow_ups(customer_id):
    limit = int_arg("limit", 50, maximum=200)
    with services().db.read() as session:
        rows = customer_work.customer_follow_ups(session, customer_id, current_viewer(), limit)
        return ok(masked({"items": [_follow_up(f) for f in rows]}))


@api_route(bp, "/customers/<int:customer_id>/follow-ups", "POST",
           "写跟进记录（完成关联任务、计入客户与分组的跟进、生成下次跟进任务、触发 crm.followup_recorded）", TAG,
           body=FOLLOW_IN, permission="worktasks.manage", operation_id="addCustomerFollowUp",
           responses={"201": FOLLOW_OUT, "404": "客户不存在或无权查看", "422": "字段无效（附字段名）"},
           examples={"request": {"content": "电话沟通，下周到店", "way": "phone", "status": "intent", "maturity": 60,
                                 "next_follow_on": "2026-12-14"}, "201": FOLLOW_EXAMPLE})
@api_auth("worktasks.manage")
def add_follow_up(customer_id):
    data, svc = json_body(), services()
    with svc.db.write() as session:
        row = customer_work.add_follow_up(session, customer_id, data, g.user.id, now=svc.now(),
                                          tz=svc.settings.timezone, viewer=current_viewer(), prepare=_follow_up_input)
        return ok(masked(_follow_up(row)), 201)


@api_route(bp, "/customers/<int:customer_id>/tasks", "GET", "客户的任务（本人负责或创建的；查看全部客户可见全部）", TAG,
           permission="worktasks.view", query=[("status", "string", "状态：" + "/".join(TASK_STATUSES)),
                                                ("limit", "integer", "条数（默认 50，最多 200）")],
           operation_id="listCustomerTasks",
           responses={"200": obj({"items": {"type": "array", "items": TASK_OUT}}), "404": "客户不存在或无权查看"},
           examples={"200": {"items": [TASK_EXAMPLE]}})
@api_auth("worktasks.view")
def list_tasks(customer_id):
    status = request.args.get("status") or None
    if status is not None and status not in TASK_STATUSES:
        raise BadRequest(f"status 应为 {' / '.join(TASK_STATUSES)} 之一", {"status": "状态无效"})
    limit = int_arg("limit", 50, maximum=200)
    with services().db.read() as session:
        rows = customer_work.customer_tasks(session, customer_id, current_viewer(), status, limit)
        return ok(masked({"items": [_task(t) for t in rows]}))


@api_route(bp, "/customers/<int:customer_id>/tasks", "POST", "为客户创建任务（默认跟进任务、本人负责）", TAG, body=TASK_IN,
           permission="worktasks.manage", operation_id="createCustomerTask",
           responses={"201": TASK_OUT, "404": "客户不存在或无权查看", "422": "字段无效（附字段名）"},
           examples={"request": {"title": "寄送样品", "priority": "high", "deadline": "2026-12-10T23:59:59+08:00"},
                     "201": TASK_EXAMPLE})
@api_auth("worktasks.manage")
def create_task(customer_id):
    data, svc = json_body(), services()
    with svc.db.write() as session:
        row = customer_work.add_task(session, customer_id, data, g.user.id, now=svc.now(),
                                     viewer=current_viewer(), prepare=_task_input)
        return ok(masked(_task(row)), 201)
