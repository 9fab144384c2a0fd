"""GET /api/v1/leads/stats: 获客统计 for scripts and BI tools — exactly the figures the console page
shows (crm/leads/stats.py computes both; see its docstring for each definition), for the same period
filter (start/end local dates, the last 14 days by default)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, request

from config.clock import to_local
from crm.errors import CrmError
from crm.leads import stats
from web.api.common import BadRequest, error_response, ok
from web.api.examples import lead_stats as ex
from web.api.spec import api_route
from web.auth.guards import api_auth
from web.extensions import services

bp = Blueprint("api_lead_stats", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)  # a period that is too long or reversed: 422

DEFAULT_DAYS = 14
STATS = {"type": "object", "additionalProperties": True,
         "description": "period, days, total, daily, converted/conversion_rate, duplicates/duplicate_ratio, "
                        "existing/existing_ratio, latency {count, avg, p50, p90} (秒), funnel, statuses, "
                        "dead_letters, rejections, scenes[], channels[]（每行含 daily 按天序列）"}


def _period() -> stats.Period:
    tz = services().settings.timezone
    default = stats.last_days(to_local(services().now(), tz).date(), DEFAULT_DAYS, tz)
    days = {}
    for name, fallback in (("start", default.first), ("end", default.last)):
        text = request.args.get(name)
        try:
            days[name] = date.fromisoformat(text) if text else fallback
        except ValueError:
            raise BadRequest(f"{name} 应为日期（如 2026-11-01）", {name: "日期格式应为 YYYY-MM-DD"},
                             status=422, code="invalid") from None
    return stats.make_period(days["start"], days["end"], tz)


def stats_json(data: dict) -> dict:
    """The console's figures as JSON: dates as ISO text, everything else as computed."""
    period = data["period"]
    out = {k: v for k, v in data.items() if k not in ("period", "days")}
    out["period"] = {"start": period.first.isoformat(), "end": period.last.isoformat()}
    out["days"] = [d.isoformat() for d in data["days"]]
    return out


@api_route(bp, "/leads/stats", "GET", "获客统计（与控制台「获客统计」页相同的数字）", "场景获客",
           permission="leads.view",
           query=[("start", "string", "开始日期（本地时区，含），默认 14 天前"), ("end", "string", "结束日期（含），默认今天")],
           responses={"200": STATS},
           operation_id="getLeadStatistics", examples=ex.GET_LEAD_STATISTICS)
@api_auth("leads.view")
def lead_statistics():
    period = _period()
    with services().db.read() as session:
        return ok(stats_json(stats.lead_stats(session, period)))
