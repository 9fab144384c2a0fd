"""/api/v1/reports/daily|weekly|monthly: the 每日数据报表, 周报 and 月度数据看板 as JSON (bearer token,
reports.view): each KPI's actual value, target, 达成率, 环比 and 同比, the trend and the ranking one
level down. `dim`/`id` pick whose figures (user, department, account, company) within the caller's
scope — a 业务员 their own, reports.view_department their departments', reports.view_all anyone;
anything else is 404 like an unknown id. Money in 分, rates and changes in %."""
from __future__ import annotations

from flask import Blueprint, request

from analytics import report_data
from analytics.scopes import DIM_LABELS
from config.clock import to_local
from crm.errors import CrmError
from web.api.common import BadRequest, error_response, int_arg, ok
from web.api.examples import reports as ex
from web.api.spec import ANY_OBJ, INT, OBJ_LIST, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_reports", __name__, url_prefix="/api/v1/reports")
bp.register_error_handler(CrmError, error_response)  # AnalyticsError 422, ScopeNotFound 404

FIGURE = obj({"key": STR, "label": STR, "unit": STR, "actual": {"type": "number", "nullable": True},
              "target": {"type": "integer", "nullable": True}, "achieved": {"type": "number", "nullable": True},
              "previous": {"type": "number", "nullable": True}, "mom": {"type": "number", "nullable": True},
              "year_ago": {"type": "number", "nullable": True}, "yoy": {"type": "number", "nullable": True},
              "money": {"type": "boolean"}, "rate": {"type": "boolean"}, "definition": STR})
REPORT = obj({"period": obj({"kind": STR, "key": STR, "first": STR, "last": STR, "label": STR}),
              "scope": obj({"dim": STR, "id": INT, "name": STR}),
              "kpis": {"type": "array", "items": FIGURE}, "more": {"type": "array", "items": FIGURE},
              "trend": ANY_OBJ, "ranking": OBJ_LIST, "review": {**ANY_OBJ, "nullable": True}})
EXAMPLE = ex.REPORT
SCOPE_QUERY = [("dim", "string", "company / department / user / account；省略时为调用者可见的最大范围"),
               ("id", "integer", "部门、员工或微信号 ID（dim=company 时省略）")]


def _answer(kind: str, period_arg: str):
    dim = request.args.get("dim") or None
    if dim is not None and dim not in DIM_LABELS:
        raise BadRequest("查询参数 dim 应为 company / department / user / account 之一", {"dim": "取值无效"})
    dim_id = int_arg("id", None, minimum=0, maximum=2**31 - 1)
    if dim and dim != "company" and dim_id is None:
        raise BadRequest("查询参数 id 必填（dim 不是 company 时）", {"id": "必填"})
    today = to_local(services().now(), services().settings.timezone).date()
    with services().db.read() as session:
        data = report_data.build(session, current_viewer(), kind, dim, dim_id, request.args.get(period_arg), today,
                                 strict=True)
        return ok(data.as_dict())


def _doc(kind: str, name: str, example: str, label: str) -> dict:
    return {"permission": "reports.view", "query": SCOPE_QUERY + [(name, "string", f"{label}，如 {example}；省略为当前")],
            "responses": {"200": {**REPORT, "example": EXAMPLE}}}


@api_route(bp, "/daily", "GET", "每日数据报表", "数据中心", **_doc("day", "day", "2026-12-07", "日期（北京时间）"),
           operation_id="getDailyReport", examples=ex.GET_DAILY_REPORT)
@api_auth("reports.view")
def daily():
    return _answer("day", "day")


@api_route(bp, "/weekly", "GET", "周报（含周复盘）", "数据中心", **_doc("week", "week", "2026-W49", "ISO 周"),
           operation_id="getWeeklyReport", examples=ex.GET_WEEKLY_REPORT)
@api_auth("reports.view")
def weekly():
    return _answer("week", "week")


@api_route(bp, "/monthly", "GET", "月度数据看板", "数据中心", **_doc("month", "month", "2026-12", "月份"),
           operation_id="getMonthlyReport", examples=ex.GET_MONTHLY_REPORT)
@api_auth("reports.view")
def monthly():
    return _answer("month", "month")
