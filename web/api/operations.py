"""/api/v1/processors, /api/v1/tasks and /api/v1/event-records."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, g, request

from config.clock import from_local
from engine import history, tasks
from handlers import definitions as processor_service
from web.api import serializers as ser
from web.api.common import BadRequest, error_envelope, ids_arg, int_arg, json_body, masked, ok
from web.api.examples import operations as ex
from web.api.spec import ANY_OBJ, BOOL, DELETED, IDS, INT, NINT, NSTR, NUM, OBJ_LIST, STR, api_route, items_of, obj
from web.auth.guards import api_auth
from web.extensions import runtime, services

bp = Blueprint("api_operations", __name__, url_prefix="/api/v1")
PROCESSOR = obj({"name": STR, "method": {"enum": ["GET", "POST", "PUT", "DELETE"]}, "url": STR,
                 "params": OBJ_LIST, "headers": OBJ_LIST, "body": STR,
                 "timeout_seconds": {"type": "number"}, "remark": STR, "enabled": {"type": "boolean"},
                 "retry_schedule": STR}, ("name", "url", "method"))
PAGING = [("page", "integer", "页码"), ("per_page", "integer", "每页条数（最多 200）")]
PROCESSOR_OUT = obj({"id": INT, "key": STR, "name": STR, "method": STR, "url": STR, "params": {}, "headers": {}, "body": {},
                     "timeout_seconds": NUM, "remark": NSTR, "enabled": BOOL, "disabled_reason": NSTR,
                     "retry_schedule": {}, "builtin": BOOL, "created_at": NSTR, "updated_at": NSTR}, ("id", "key", "name"))
TASK_OUT = obj({"id": INT, "event_record_id": NINT, "strategy_id": NINT, "strategy_name": NSTR, "event_code": NSTR,
                "step_index": INT, "processor_key": STR, "processor_name": NSTR, "timing": {}, "due_at": NSTR, "status": STR,
                "attempts": INT, "max_attempts": INT, "last_error": {}, "note": {}, "rendered": {}, "result": {},
                "created_at": NSTR, "finished_at": NSTR}, ("id", "status"))
RECORD_OUT = obj({"id": INT, "event_code": STR, "event_name": NSTR, "app_id": NINT, "app_name": NSTR, "source": STR,
                  "external_id": NSTR, "occurred_at": NSTR, "received_at": NSTR, "status": STR, "reject_reason": NSTR,
                  "errors": {}, "outcome": NSTR, "outcome_label": NSTR, "outcome_note": {}, "matched_count": NINT,
                  "data": {}}, ("id", "event_code", "status"))


@api_route(bp, "/processors", "GET", "处理器列表（内置 + 已注册的 HTTP 处理器）", "处理器注册中心", permission="processors.view",
           operation_id="listProcessors", responses={"200": items_of(ANY_OBJ)}, examples=ex.LIST_PROCESSORS)
@api_auth("processors.view")
def list_processors():
    return ok({"items": runtime().registry.list_all()})


@api_route(bp, "/processors/definitions", "GET", "已注册的 HTTP 处理器", "处理器注册中心", permission="processors.view",
           operation_id="listProcessorDefinitions",
           responses={"200": items_of(PROCESSOR_OUT)},
           examples=ex.LIST_PROCESSOR_DEFINITIONS)
@api_auth("processors.view")
def list_processor_definitions():
    return ok({"items": [ser.processor_definition(p) for p in processor_service.list_definitions(services().db)]})


@api_route(bp, "/processors/definitions", "POST", "注册 HTTP 处理器", "处理器注册中心", body=PROCESSOR,
           permission="processors.manage",
           operation_id="createProcessorDefinition",
           responses={"201": PROCESSOR_OUT},
           examples=ex.CREATE_PROCESSOR_DEFINITION)
@api_auth("processors.manage")
def create_processor():
    return ok(ser.processor_definition(processor_service.create_definition(services().db, json_body())), 201)


@api_route(bp, "/processors/definitions/<int:definition_id>", "PUT", "修改 HTTP 处理器", "处理器注册中心",
           body=PROCESSOR, permission="processors.manage",
           operation_id="updateProcessorDefinition",
           responses={"200": PROCESSOR_OUT},
           examples=ex.UPDATE_PROCESSOR_DEFINITION)
@api_auth("processors.manage")
def update_processor(definition_id):
    row = processor_service.update_definition(services().db, definition_id, json_body(), runtime().registry)
    return ok(ser.processor_definition(row))


@api_route(bp, "/processors/definitions/<int:definition_id>", "DELETE", "删除 HTTP 处理器", "处理器注册中心",
           permission="processors.manage",
           operation_id="deleteProcessorDefinition",
           responses={"200": DELETED},
           examples=ex.DELETE_PROCESSOR_DEFINITION)
@api_auth("processors.manage")
def delete_processor(definition_id):
    processor_service.delete_definition(services().db, definition_id, runtime().registry)
    return ok({"deleted": definition_id})


def _date_arg(name: str):
    value = request.args.get(name)
    if not value:
        return None
    try:
        return from_local(datetime.fromisoformat(value), services().settings.timezone)
    except ValueError:
        raise BadRequest(f"查询参数 {name} 应为日期时间，如 2026-11-22 或 2026-11-22T08:00") from None


@api_route(bp, "/tasks", "GET", "策略任务列表", "策略任务", permission="tasks.view",
           query=[("status", "string", "pending/running/done/failed/cancelled/dead/skipped"),
                  ("strategy_id", "integer", "策略"), ("delayed_only", "boolean", "只看延迟任务")] + PAGING,
           operation_id="listTasks", responses={"200": items_of(TASK_OUT, total=INT)}, examples=ex.LIST_TASKS)
@api_auth("tasks.view")
def list_tasks():
    f = tasks.TaskFilter(status=request.args.get("status") or None, strategy_id=int_arg("strategy_id"),
                         delayed_only=request.args.get("delayed_only") in ("1", "true"),
                         since=_date_arg("since"), until=_date_arg("until"),
                         page=int_arg("page", 1), per_page=int_arg("per_page", 20, maximum=200))
    with services().db.read() as s:
        rows, total = tasks.list_tasks(s, f)
        return ok({"items": [ser.task(r["task"], r["strategy_name"], r["event_code"]) for r in rows], "total": total})


@api_route(bp, "/tasks/cancel", "POST", "取消待执行任务", "策略任务", body=IDS, permission="tasks.manage",
           operation_id="cancelTasks", responses={"200": obj({"cancelled": INT})}, examples=ex.CANCEL_TASKS)
@api_auth("tasks.manage")
def cancel_tasks():
    ids = ids_arg(json_body())
    with services().db.write() as s:
        return ok({"cancelled": tasks.cancel_tasks(s, ids, g.user.username)})


@api_route(bp, "/tasks/replay", "POST", "重放死信任务", "死信", body=IDS, permission="deadletters.manage",
           operation_id="replayDeadTasks", responses={"200": obj({"replayed": INT})}, examples=ex.REPLAY_DEAD_TASKS)
@api_auth("deadletters.manage")
def replay_tasks():
    ids, svc = ids_arg(json_body()), services()
    with svc.db.write() as s:
        n = tasks.replay_dead(s, ids, svc.now(), svc.settings.step_max_attempts, g.user.username)
    return ok({"replayed": n})


@api_route(bp, "/event-records", "GET", "事件历史（默认今天）", "事件历史", permission="history.view",
           query=[("event_code", "string", "事件代码"), ("app_id", "integer", "应用"), ("since", "string", "开始时间"),
                  ("until", "string", "结束时间"), ("outcome", "string", "matched/unmatched/none/rejected/error"),
                  ("task_status", "string", "处理器执行结果")] + PAGING,
           operation_id="listEventRecords",
           responses={"200": items_of(RECORD_OUT, total=INT)},
           examples=ex.LIST_EVENT_RECORDS)
@api_auth("history.view")
def list_records():
    svc = services()
    since = _date_arg("since")
    if since is None and not request.args.get("all"):
        since = history.start_of_today(svc.now(), svc.settings.timezone)
    f = history.HistoryFilter(event_code=request.args.get("event_code") or None, app_id=int_arg("app_id"),
                              since=since, until=_date_arg("until"), outcome=request.args.get("outcome") or None,
                              task_status=request.args.get("task_status") or None,
                              page=int_arg("page", 1), per_page=int_arg("per_page", 20, maximum=200))
    with svc.db.read() as s:
        rows, total = history.list_records(s, f)
    return ok({"items": [ser.record(r["record"], r["app_name"], r["event_name"], r["outcome_label"]) for r in rows],
               "total": total})


@api_route(bp, "/event-records/<int:record_id>", "GET", "事件详情：匹配的策略、每一步的执行与尝试", "事件历史",
           permission="history.view",
           operation_id="getEventRecord",
           responses={"200": {**RECORD_OUT, "properties": {**RECORD_OUT["properties"], "runs": OBJ_LIST, "unmatched": OBJ_LIST}}},
           examples=ex.GET_EVENT_RECORD)
@api_auth("history.view")
def get_record(record_id):
    svc = services()
    with svc.db.read() as s:
        d = history.record_detail(s, record_id, svc.now(), svc.settings.timezone)
    if d is None:
        return error_envelope(404, "not_found", f"事件记录 {record_id} 不存在")
    return ok({
        **ser.record(d["record"], d["app_name"], d["event_name"], d["outcome_label"]),
        "runs": [{"strategy_id": r["run"].strategy_id, "strategy_name": r["run"].strategy_name,
                  "matched": r["run"].matched, "reason": r["run"].reason,
                  "tasks": [{**ser.task(t["task"]), "attempts": [ser.attempt(a) for a in t["attempts"]]} for t in r["tasks"]]}
                 for r in d["runs"]],
        "unmatched": [{"strategy_id": u["strategy"].id, "strategy_name": u["strategy"].name, "reason": u["reason"],
                       "trace": masked([t.as_dict() for t in u["trace"]])} for u in d["unmatched"]],
    })
