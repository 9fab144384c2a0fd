"""/api/v1 for 电话获客 outbound (the seed's list): 创建外呼任务, 外呼任务列表/详情, 更新外呼任务状态,
通话记录列表/详情 and 获取通话录音文件. The same rules as the console: a seat's token sees its own calls
only (leads.view_all sees everyone's), numbers are masked without pii.view, recordings are served to the
call's seat or a manager and every fetch is logged."""
from __future__ import annotations

import io
from pathlib import Path

from flask import Blueprint, abort, g, request, send_file

from crm.errors import CrmError
from crm.leads import call_records, calls
from crm.leads.call_models import CALL_RESULTS, TASK_STATES, CallRecord
from crm.leads.errors import LeadNotFound
from engine.outbound_calls import callback_url, dial_soon
from web.api.common import error_response, int_arg, iso, json_body, masked, ok
from web.api.examples import calls as ex
from web.api.spec import ANY_OBJ, INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_calls", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)

TASK_IN = {**obj({"name": STR, "source": {"type": "string", "enum": ["leads", "tags"]}, "filters": ANY_OBJ,
                  "seat_user_ids": {"type": "array", "items": INT}, "window": STR, "max_attempts": INT,
                  "retry_minutes": INT, "retry_on": {"type": "array", "items": STR}, "script": STR},
                 ("name", "seat_user_ids")), "additionalProperties": False}
TASK_OUT = {"type": "object", "additionalProperties": True}
RECORD_OUT = {"type": "object", "additionalProperties": True}


def task_dict(task, summary: dict | None = None) -> dict:
    return {"task_id": task.id, "name": task.name, "status": task.status, "status_label": TASK_STATES[task.status],
            "source": task.source, "filters": task.filters, "seat_user_ids": task.seat_user_ids, "window": task.window,
            "max_attempts": task.max_attempts, "retry_minutes": task.retry_minutes, "retry_on": task.retry_on,
            "script": task.script, "created_at": iso(task.created_at), "started_at": iso(task.started_at),
            "finished_at": iso(task.finished_at), **({"progress": summary} if summary is not None else {})}


def record_dict(r: CallRecord) -> dict:
    return {"record_id": r.id, "call_id": r.call_id, "task_id": r.task_id, "seat_user_id": r.seat_user_id,
            "lead_id": r.lead_id, "customer_id": r.customer_id, "mobile": masked(r.mobile or ""), "status": r.status,
            "result": r.result, "result_label": CALL_RESULTS.get(r.result, ""), "started_at": iso(r.started_at),
            "answered_at": iso(r.answered_at), "ended_at": iso(r.ended_at), "duration_seconds": r.duration_seconds,
            "intent": r.intent, "notes": r.notes, "error": r.error, "has_recording": bool(r.recording_path),
            "recording_error": r.recording_error}


@api_route(bp, "/call-tasks", "GET", "外呼任务列表", "电话外呼", permission="leads.view", responses={"200": obj({"items": {"type": "array", "items": TASK_OUT}})},
           operation_id="listCallTasks", examples=ex.LIST_CALL_TASKS)
@api_auth("leads.view")
def list_call_tasks():
    with services().db.read() as s:
        tasks = call_records.list_tasks(s)
        summary = call_records.task_summary(s, [t.id for t in tasks])
        return ok({"items": [task_dict(t, summary[t.id]) for t in tasks]})


@api_route(bp, "/call-tasks", "POST", "创建外呼任务（未开始；用状态接口开始）", "电话外呼", body=TASK_IN, permission="scenes.manage",
           responses={"201": TASK_OUT},
           operation_id="createCallTask", examples=ex.CREATE_CALL_TASK)
@api_auth("scenes.manage")
def create_call_task():
    data = json_body()
    with services().db.write() as s:
        return ok(task_dict(calls.create_task(s, data, g.user.id)), 201)


@api_route(bp, "/call-tasks/<int:task_id>", "GET", "外呼任务详情（含进度）", "电话外呼", permission="leads.view", responses={"200": TASK_OUT},
           operation_id="getCallTask", examples=ex.GET_CALL_TASK)
@api_auth("leads.view")
def get_call_task(task_id):
    with services().db.read() as s:
        return ok(task_dict(calls.get_task(s, task_id), call_records.task_summary(s, [task_id])[task_id]))


@api_route(bp, "/call-tasks/<int:task_id>/status", "PUT", "更新外呼任务状态（running 开始/继续、paused 暂停、done 完成）", "电话外呼",
           body={**obj({"status": {"type": "string", "enum": list(TASK_STATES)}}, ("status",)), "additionalProperties": False},
           permission="scenes.manage", responses={"200": TASK_OUT},
           operation_id="setCallTaskStatus", examples=ex.SET_CALL_TASK_STATUS)
@api_auth("scenes.manage")
def set_call_task_status(task_id):
    status = json_body().get("status")
    with services().db.write() as s:
        task = calls.set_status(s, task_id, status if isinstance(status, str) else "", services().now())
        out = task_dict(task)
    if task.status == "running":
        dial_soon(services(), callback_url(services().settings, request.host_url))
    return ok(out)


@api_route(bp, "/call-records", "GET", "通话记录列表（座席只看自己的通话）", "电话外呼", permission="leads.view",
           query=[("task_id", "integer", "外呼任务"), ("result", "string", "结果 answered/no_answer/busy/failed"), ("page", "integer", "页码")],
           responses={"200": obj({"items": {"type": "array", "items": RECORD_OUT}, "total": INT})},
           operation_id="listCallRecords", examples=ex.LIST_CALL_RECORDS)
@api_auth("leads.view")
def list_call_records():
    result = request.args.get("result", "")
    with services().db.read() as s:
        rows, total = call_records.list_records(s, current_viewer(), task_id=int_arg("task_id"),
                                                result=result if result in CALL_RESULTS else "", page=int_arg("page", 1))
        return ok({"items": [record_dict(r) for r in rows], "total": total})


@api_route(bp, "/call-records/<int:record_id>", "GET", "通话记录详情", "电话外呼", permission="leads.view", responses={"200": RECORD_OUT},
           operation_id="getCallRecord", examples=ex.GET_CALL_RECORD)
@api_auth("leads.view")
def get_call_record(record_id):
    with services().db.read() as s:
        return ok(record_dict(call_records.get_record(s, current_viewer(), record_id)))


@api_route(bp, "/call-records/<int:record_id>/recording", "GET", "获取通话录音文件（音频；每次获取都会留痕）", "电话外呼",
           permission="leads.view", responses={"200": {"type": "string", "format": "binary"}, "404": "通话记录不存在或没有录音"},
           operation_id="downloadCallRecording", examples=ex.DOWNLOAD_CALL_RECORDING)
@api_auth("leads.view")
def get_call_recording(record_id):
    viewer = current_viewer()
    with services().db.write() as s:
        record = call_records.get_record(s, viewer, record_id)
        if not record.recording_path:
            raise LeadNotFound(f"通话 {record_id} 没有录音")
        call_records.log_access(s, record.id, viewer.user_id, "download", request.remote_addr or "", services().now())
        name, kind = record.recording_path, record.recording_type
    path = Path(services().settings.var_dir) / "recordings" / Path(name).name
    if not path.is_file():
        abort(404)
    return send_file(io.BytesIO(path.read_bytes()), mimetype=kind or "application/octet-stream", as_attachment=True,
                     download_name=f"call_{record_id}{path.suffix}", max_age=0)
