"""/api/v1/leads: 场景获客's leads for sales tools and scripts (bearer token): list them with the
guide's filters, read one with its processing log, change its status, notes, related customer or
fields, and assign or reassign it to a salesperson or a team. Phones and e-mails are masked for
tokens without 查看完整手机号 (pii.view). Leads come in through POST /api/v1/leads/ingestions
(web/api/lead_ingest.py).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, g, request
from sqlmodel import select

from config.clock import from_local
from crm.errors import CrmError
from crm.leads import service as lead_service
from crm.leads.assignment import manual_assign
from crm.leads.logs import STAGE_LABELS
from crm.leads.models import LEAD_STATUSES, LeadLog
from web.api.common import BadRequest, can_see_pii, error_response, int_arg, iso, json_body, masked, ok
from web.api.examples import leads as ex
from web.api.spec import ANY_OBJ, INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services
from web.input_limits import bounded_int

bp = Blueprint("api_leads", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)  # LeadsError 422, LeadNotFound 404

SORTS = ("created_at", "updated_at", "status", "value", "assigned_at")
LEAD = {"type": "object", "additionalProperties": True}
LEAD_UPDATE = {**obj({"status": {"type": "string", "enum": list(LEAD_STATUSES)}, "notes": STR,
                      "related_customer_id": INT, "lead_data": ANY_OBJ}), "additionalProperties": False}
ASSIGN = obj({"user_id": INT, "team_id": INT})


def _day_arg(name: str, end: bool = False):
    """A date (the whole local day; an end date includes its day) or a date-time, as aware UTC."""
    value = request.args.get(name)
    if not value:
        return None
    try:
        if len(value) == 10:
            day = datetime.combine(date.fromisoformat(value), datetime.min.time())
            return from_local(day + timedelta(days=1) if end else day, services().settings.timezone)
        return from_local(datetime.fromisoformat(value), services().settings.timezone)
    except ValueError:
        raise BadRequest(f"查询参数 {name} 应为日期，如 2026-11-22 或 2026-11-22T08:00", {name: "日期格式错误"}) from None


def _choice_arg(name: str, choices, default=None):
    value = request.args.get(name) or default
    if value is not None and value not in choices:
        raise BadRequest(f"查询参数 {name} 应为 {' / '.join(choices)} 之一", {name: f"{name} 取值无效"})
    return value


def _ids_arg(name: str) -> list[int] | None:
    value = request.args.get(name)
    if not value:
        return None
    try:
        return [bounded_int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise BadRequest(f"查询参数 {name} 应为逗号分隔的标签 ID，如 3,5", {name: "标签 ID 应为整数"}) from None


LIST_QUERY = [("status", "string", "状态：" + "/".join(LEAD_STATUSES)), ("channel_id", "integer", "渠道"),
              ("scene_config_id", "integer", "获客场景"), ("assigned_to_user_id", "integer", "负责人"),
              ("start_date", "string", "创建日期起（含），如 2026-11-01"), ("end_date", "string", "创建日期止（含）"),
              ("tags_contain_any", "string", "标签 ID，逗号分隔，含任一即可"), ("q", "string", "姓名/手机号/邮箱/公司"),
              ("page", "integer", "页码"), ("size", "integer", "每页条数（最多 200）"),
              ("sort_by", "string", "/".join(SORTS)), ("sort_order", "string", "asc/desc")]


@api_route(bp, "/leads", "GET", "线索列表（筛选、分页、排序）", "场景获客", permission="leads.view", query=LIST_QUERY,
           responses={"200": obj({"items": {"type": "array", "items": LEAD}, "total": INT, "page": INT, "size": INT})},
           operation_id="listLeads", examples=ex.LIST_LEADS)
@api_auth("leads.view")
def list_leads():
    page, size = int_arg("page", 1), int_arg("size", 20, maximum=200)
    with services().db.read() as session:
        rows, total = lead_service.list_leads(
            session, status=_choice_arg("status", LEAD_STATUSES), channel_id=int_arg("channel_id"),
            scene_id=int_arg("scene_config_id"), assignee_user_id=int_arg("assigned_to_user_id"),
            start=_day_arg("start_date"), end=_day_arg("end_date", end=True), tag_ids=_ids_arg("tags_contain_any"),
            q=(request.args.get("q") or "").strip()[:100], page=page, size=size,
            sort_by=_choice_arg("sort_by", SORTS, "created_at"), sort_order=_choice_arg("sort_order", ("asc", "desc"), "desc"),
            viewer=current_viewer())
        items = [lead_service.lead_dict(session, row, mask=not can_see_pii()) for row in rows]
    return ok({"items": items, "total": total, "page": page, "size": size})


def _lead_answer(lead_id: int):
    """The lead with what it was sent as and its processing log; masked as a whole for callers
    without pii.view (the log's words and details may quote a number too)."""
    with services().db.read() as session:
        lead = lead_service.get_lead(session, lead_id, current_viewer())
        out = lead_service.lead_dict(session, lead, mask=not can_see_pii(), raw=True)
        out["logs"] = [{"stage": row.stage, "stage_label": STAGE_LABELS.get(row.stage, row.stage), "ok": row.ok,
                        "message": row.message, "detail": row.detail, "actor": row.actor, "created_at": iso(row.created_at)}
                       for row in session.exec(select(LeadLog).where(LeadLog.lead_id == lead.id).order_by(LeadLog.id))]
    return ok(masked(out))


@api_route(bp, "/leads/<int:lead_id>", "GET", "线索详情（含处理日志）", "场景获客", permission="leads.view",
           responses={"200": LEAD},
           operation_id="getLead", examples=ex.GET_LEAD)
@api_auth("leads.view")
def get_lead(lead_id):
    return _lead_answer(lead_id)


@api_route(bp, "/leads/<int:lead_id>", "PUT", "更新线索：状态、备注、关联客户、线索字段", "场景获客", body=LEAD_UPDATE,
           permission="leads.manage", responses={"200": LEAD, "422": "状态流转不允许或字段无效（附原因）"},
           operation_id="updateLead", examples=ex.UPDATE_LEAD)
@api_auth("leads.manage")
def update_lead(lead_id):
    data = json_body()
    with services().db.read() as session:  # an unknown id, or someone else's lead, is a 404 before anything
        lead_service.get_lead(session, lead_id, current_viewer())
    unknown = sorted(set(data) - set(LEAD_UPDATE["properties"]))
    if unknown:
        raise BadRequest(f"不能修改的字段：{'、'.join(unknown)}", {k: "不能通过接口修改" for k in unknown}, status=422, code="invalid")
    with services().db.write() as session:
        lead_service.update_lead(session, lead_id, data, actor=g.user.username, viewer=current_viewer())
    return _lead_answer(lead_id)


@api_route(bp, "/leads/<int:lead_id>/assign", "POST", "手动分配/重新分配线索（user_id 或 team_id=客户分组）", "场景获客",
           body=ASSIGN, permission="leads.assign", responses={"200": LEAD},
           operation_id="assignLead", examples=ex.ASSIGN_LEAD)
@api_auth("leads.assign")
def assign_lead(lead_id):
    data = json_body()
    with services().db.read() as session:
        lead_service.get_lead(session, lead_id, current_viewer())
    user_id, team_id = data.get("user_id"), data.get("team_id")
    if (user_id is None) == (team_id is None):
        raise BadRequest("请提供 user_id 或 team_id 其中之一", {"user_id": "user_id 与 team_id 二选一"})
    for name, value in (("user_id", user_id), ("team_id", team_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise BadRequest(f"{name} 应为整数", {name: f"{name} 应为整数"})
    svc = services()
    with svc.db.write() as session:
        lead_service.get_lead(session, lead_id, current_viewer())
        manual_assign(session, lead_id, user_id=user_id, group_id=team_id, actor=g.user.username, now=svc.now(),
                      actor_id=g.user.id)
    return _lead_answer(lead_id)
