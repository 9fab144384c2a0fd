"""获客统计: pick a period (the last 14 days by default) and see how many leads each scene and
channel brought in per day, how many converted, how fast they were assigned, how many were repeats
or existing customers, and what was refused on the way in; the table downloads as CSV.

The charts are ECharts options built here (ui.chart draws them; no inline script for the CSP to
block); a bar opens the 线索列表 of its scene or channel and days."""
from __future__ import annotations

import csv
import io
from datetime import date
from typing import Optional

from flask import Blueprint, render_template, request, send_file, url_for

from config.clock import to_local
from crm.leads import stats
from crm.leads.errors import LeadsError
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read
from web.extensions import services

bp = Blueprint("lead_stats", __name__)

DEFAULT_DAYS = 14
MAX_SERIES = 7  # scenes drawn one by one in the stacked chart; the rest are summed as 其他


def _period() -> tuple[stats.Period, dict]:
    """The period asked for (start/end dates), or the default one with the refusal as errors."""
    tz = services().settings.timezone
    today = to_local(services().now(), tz).date()
    default = stats.last_days(today, DEFAULT_DAYS, tz)
    try:
        first = date.fromisoformat(request.args.get("start") or default.first.isoformat())
        last = date.fromisoformat(request.args.get("end") or default.last.isoformat())
    except ValueError:
        return default, {"start": ["请输入正确的日期（如 2026-11-01）"]}
    try:
        return stats.make_period(first, last, tz), {}
    except LeadsError as exc:
        return default, error_map(exc)


def _leads_link(period: stats.Period, first: date, last: date, **filters) -> str:
    """The 线索列表 of these filters over [first, last] (local days): the leads behind a bar."""
    return url_for("leads.index", start=first.isoformat(), end=last.isoformat(), **filters)


def daily_option(days: list[date], series: list[tuple[Optional[int], str, list[int]]], dimension: str,
                 period: stats.Period) -> dict:
    """Daily columns stacked by scene or channel (id, name, values per day); past MAX_SERIES the rest
    are summed as 其他. A segment opens the leads of that scene/channel on that day."""
    if len(series) > MAX_SERIES:
        rest = [sum(v) for v in zip(*(values for _, _, values in series[MAX_SERIES - 1:]))]
        series = series[:MAX_SERIES - 1] + [(None, "其他", rest)]
    out = []
    for key, name, values in series:
        data = []
        for day, value in zip(days, values):
            item = {"value": value}
            if key is not None and value:
                item["link"] = _leads_link(period, day, day, **{dimension: key})
            data.append(item)
        out.append({"type": "bar", "stack": "leads", "name": name, "barMaxWidth": 28, "data": data})
    return {"grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
            "legend": {"type": "scroll", "top": 0}, "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "category", "data": [d.strftime("%m-%d") for d in days]},
            "yAxis": {"type": "value", "minInterval": 1}, "series": out}


def channels_option(rows: list[dict], period: stats.Period) -> dict:
    """One bar per channel, largest on top; a bar opens that channel's leads of the period."""
    rows = list(reversed(rows))
    return {"grid": {"left": 8, "right": 40, "top": 8, "bottom": 8, "containLabel": True},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": [r["name"] for r in rows]},
            "series": [{"type": "bar", "name": "线索数", "barMaxWidth": 20, "label": {"show": True, "position": "right"},
                        "data": [{"value": r["total"], **({"link": _leads_link(period, period.first, period.last,
                                                                               channel=r["id"])}
                                                          if r["id"] is not None and r["total"] else {})}
                                 for r in rows]}]}


def funnel_option(stages: list[dict]) -> dict:
    """收到 → 已分配 → 跟进中 → 已转化, each with its count and share of the leads received."""
    return {"series": [{"type": "funnel", "name": "线索漏斗", "sort": "none", "minSize": "8%", "gap": 2,
                        "left": "4%", "width": "56%", "label": {"position": "right", "formatter": "{b}：{c}"},
                        "data": [{"name": f"{st['label']}（{_percent(st['ratio']) or '—'}）", "value": st["count"]}
                                 for st in stages]}]}


def _charts(data: dict, daily_by: str, period: stats.Period) -> dict:
    rows = data["channels"] if daily_by == "channel" else data["scenes"]
    return {"daily": daily_option(data["days"], [(r["id"], r["name"], r["daily"]) for r in rows], daily_by, period),
            "channels": channels_option(data["channels"], period),
            "funnel": funnel_option(data["funnel"])}


@bp.get("/leads/stats")
@permission_required("leads.view")
def index():
    period, errors = _period()
    data = read(lambda s: stats.lead_stats(s, period))
    daily_by = "channel" if request.args.get("daily") == "channel" else "scene"
    return render_template("lead_stats/index.html", data=data, period=period, errors=errors, daily_by=daily_by,
                           charts=_charts(data, daily_by, period), reason_labels=stats.REJECTION_REASONS,
                           args={"start": period.first.isoformat(), "end": period.last.isoformat()})


def _cell(value) -> str:
    """A CSV cell Excel will not run as a formula (a scene named "=1+1" stays text)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not text.lstrip("-").replace(".", "").isdigit() else text


def _percent(ratio) -> str:
    return "" if ratio is None else f"{ratio * 100:.1f}%"


@bp.get("/leads/stats/export")
@permission_required("leads.view")
def export():
    """The per-scene and per-channel tables of the period as one CSV (UTF-8 with BOM for Excel)."""
    period, _ = _period()
    data = read(lambda s: stats.lead_stats(s, period))
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(["维度", "名称", "线索数", "已转化", "转化率", "重复线索", "老客户线索", "平均分配耗时（秒）"]
                 + [d.isoformat() for d in data["days"]])
    for dimension, rows in (("场景", data["scenes"]), ("渠道", data["channels"])):
        for r in rows:
            out.writerow([dimension, _cell(r["name"]), r["total"], r["converted"], _percent(r["conversion_rate"]),
                          r["duplicates"], r["existing"], "" if r["avg_latency"] is None else r["avg_latency"]]
                         + r["daily"])
    out.writerow(["合计", "", data["total"], data["converted"], _percent(data["conversion_rate"]), data["duplicates"],
                  data["existing"], "" if data["latency"]["avg"] is None else data["latency"]["avg"]] + data["daily"])
    name = f"获客统计_{period.first.isoformat()}_{period.last.isoformat()}.csv"
    return send_file(io.BytesIO(buf.getvalue().encode("utf-8-sig")), mimetype="text/csv", as_attachment=True,
                     download_name=name)
