"""/api/v1/dashboard/overview, /funnel and /rfm: the 数据中心 figures as JSON, for the token's user
(a 业务员 their own numbers and customers, a manager their department's, 查看全公司的数据 everyone's).
Filters are the console's query parameters; every figure that stands for customers carries
`segment`, the parameters of its drill-down (GET /dashboards/segment?<segment> in the console)."""
from __future__ import annotations

from flask import Blueprint, request

from analytics import cohorts, overview, rfm, segments, snapshot
from analytics.errors import AnalyticsError
from config.clock import local_iso, to_local
from crm.errors import CrmError
from web.api.common import error_response, ok
from web.api.examples import dashboards as ex
from web.api.spec import ANY_OBJ, INT, NUM, OBJ_LIST, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_dashboards", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)

RANGE = [("start", "string", "开始日期 YYYY-MM-DD（北京时间自然日；默认结束日期前 30 天）"),
         ("end", "string", "结束日期 YYYY-MM-DD（默认今天）")]
FUNNEL_FILTERS = [("channel_id", "integer", "渠道 ID"), ("scene_id", "integer", "获客场景 ID"),
                  ("group_id", "integer", "微信群 ID"), ("cohort", "string", "首次触达月份 YYYY-MM")]
OVERVIEW_OUT = obj({"start": STR, "end": STR, "scope": obj({"dim": STR, "ids": {"type": "array", "items": INT}}),
                    "groups": INT, "users": INT, "customers": INT, "friends": INT, "active_last": INT, "active_avg": NUM,
                    "gmv_fen": INT, "refund_fen": INT, "buyers": INT, "orders_paid": INT, "conversion": ANY_OBJ,
                    "trends": ANY_OBJ, "contribution": ANY_OBJ, "segments": ANY_OBJ,
                    "totals_as_of": {"type": "string", "nullable": True,
                                     "description": "看全公司时社群/用户/客户/好友数取自最近一次评分（此时间，UTC ISO），否则为实时"}})
# computed_at/cuts are null until the nightly rollup has run once
FUNNEL_OUT = obj({"steps": OBJ_LIST, "median_hours": ANY_OBJ, "cohorts": ANY_OBJ, "computed_at": {**STR, "nullable": True}})
RFM_OUT = obj({"segments": OBJ_LIST, "computed_at": {**STR, "nullable": True}, "cuts": {**ANY_OBJ, "nullable": True}})


def _today():
    svc = services()
    return to_local(svc.now(), svc.settings.timezone).date()


def _segment(**fixed) -> segments.Segment:
    args = {k: v for k, v in request.args.items() if k in segments.FILTER_ARGS}
    return segments.parse({**args, **fixed}, _today())


def _relabel(items: list[dict]) -> list[dict]:
    return [{**{k: v for k, v in it.items() if k != "params"}, "segment": it.get("params")} for it in items]


@api_route(bp, "/dashboard/overview", "GET", "私域运营看板：社群、用户（去重）、活跃、转化率、GMV 与贡献、趋势", "数据中心",
           permission="dashboards.view", query=RANGE + [("channel_id", "integer", "渠道 ID"),
                                                        ("scene_id", "integer", "获客场景 ID"),
                                                        ("staff_id", "integer", "员工 ID")],
           responses={"200": OVERVIEW_OUT, "422": "筛选条件有误（fields 指出哪一个）"},
           operation_id="getDashboardOverview", examples=ex.GET_DASHBOARD_OVERVIEW)
@api_auth("dashboards.view")
def dashboard_overview():
    seg = _segment(kind="buyers")
    tz = services().settings.timezone
    with services().db.read() as session:
        data = overview.compute(session, current_viewer(), seg, tz, lambda: snapshot.totals(session, current_viewer()))
    return ok({"start": seg.start.isoformat(), "end": seg.end.isoformat(),
               "scope": {"dim": data["dim"], "ids": data["dim_ids"]},
               **{k: data[k] for k in ("groups", "users", "customers", "friends", "active_last", "active_avg",
                                       "gmv_fen", "refund_fen", "buyers", "orders_paid", "conversion")},
               "trends": {"days": [d.isoformat() for d in data["days"]], **data["trends"]},
               "contribution": {d: _relabel(rows) for d, rows in data["contribution"].items()},
               "segments": data["links"], "totals_as_of": data.get("as_of")})


@api_route(bp, "/dashboard/funnel", "GET", "生命周期漏斗（入群/加好友 → 首购 → 复购）与同期群留存", "数据中心",
           permission="dashboards.view", query=FUNNEL_FILTERS + [("months", "integer", "同期群月数（1–24，默认 12）")],
           responses={"200": FUNNEL_OUT, "422": "筛选条件有误"},
           operation_id="getDashboardFunnel", examples=ex.GET_DASHBOARD_FUNNEL)
@api_auth("dashboards.view")
def dashboard_funnel():
    seg = _segment(kind="funnel", step="contact")
    months = request.args.get("months", "12")
    if not months.isdigit() or not 1 <= int(months) <= cohorts.MAX_MONTHS:
        raise AnalyticsError("月数有误", {"months": f"应为 1–{cohorts.MAX_MONTHS} 的整数"})
    tz = services().settings.timezone
    with services().db.read() as session:
        data = snapshot.funnel_steps(session, current_viewer(), seg)
        table = snapshot.retention(session, current_viewer(), seg, _today(), int(months), tz)
        run = rfm.last_run(session)
    rows = [{"month": r["month"], "size": r["size"], "segment": r["params"],
             "cells": [None if c is None else {k: v for k, v in c.items() if k != "params"} | {"segment": c["params"]}
                       for c in r["cells"]]} for r in table["rows"]]
    return ok({"steps": _relabel(data["steps"]), "median_hours": data["median_hours"],
               "cohorts": {"months": table["months"], "rows": rows},
               "computed_at": local_iso(run.computed_at, tz) if run else None})


@api_route(bp, "/dashboard/rfm", "GET", "RFM 客户分层：各分层客户数与消费金额", "数据中心", permission="dashboards.view",
           responses={"200": RFM_OUT},
           operation_id="getDashboardRfm", examples=ex.GET_DASHBOARD_RFM)
@api_auth("dashboards.view")
def dashboard_rfm():
    tz = services().settings.timezone
    with services().db.read() as session:
        rows = snapshot.rfm_summary(session, current_viewer())
        run = rfm.last_run(session)
    return ok({"segments": [{**r, "segment": {"kind": "rfm", "key": r["key"]}} for r in rows],
               "computed_at": local_iso(run.computed_at, tz) if run else None, "cuts": run.cuts if run else None})


