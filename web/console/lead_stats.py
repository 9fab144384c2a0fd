"""获客统计: pick a period (the last 14 days by default) and see how many leads each scene and
channel brought in per day, how many converted, how fast they were assigned, how many were repeats
or existing customers, and what was refused on the way in; the table downloads as CSV.

The charts are inline SVG drawn on the server (no chart library, nothing for the CSP to block):
this module only works out coordinates; templates/lead_stats/_charts.html draws them."""
from __future__ import annotations

import csv
import io
import math
from datetime import date

from flask import Blueprint, render_template, request, send_file

from config.clock import to_local
from crm.leads import stats
from crm.leads.errors import LeadsError
from web.auth.guards import permission_required
from web.console.forms_common import error_map, read
from web.extensions import services

bp = Blueprint("lead_stats", __name__)

DEFAULT_DAYS = 14
SERIES_COLOURS = 8  # lp-series-0 … lp-series-7 in lead_pages.css; more scenes share colours
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


def value_axis(top: float, ticks: int = 4) -> tuple[float, list[float]]:
    """A round upper bound ≥ `top` and the grid values 0 … bound, in steps of 1, 2 or 5 × 10^k."""
    if top <= 0:
        return 1, [0, 1]
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(int(round(step)), 1)  # counts are whole numbers
    bound = step * math.ceil(top / step)
    return bound, [step * i for i in range(int(bound / step) + 1)]


def _frame(width: int, height: int, top: float, left: int = 36, bottom: int = 24) -> dict:
    """The plot area shared by every chart: padding, the value axis and its grid lines."""
    bound, grid = value_axis(top)
    frame = {"width": width, "height": height, "left": left, "right": width - 10, "top": 10,
             "bottom": height - bottom, "bound": bound}
    frame["grid"] = [{"value": v, "y": _y(frame, v)} for v in grid]
    return frame


def _y(frame: dict, value: float) -> float:
    return round(frame["bottom"] - (frame["bottom"] - frame["top"]) * value / frame["bound"], 1)


def stacked_days(days: list[date], series: list[tuple[str, list[int]]], width: int = 1000, height: int = 240) -> dict:
    """Daily columns, each stacked by series (name, values per day)."""
    if len(series) > MAX_SERIES:
        rest = [sum(v) for v in zip(*(values for _, values in series[MAX_SERIES - 1:]))]
        series = series[:MAX_SERIES - 1] + [("其他", rest)]
    totals = [sum(values[i] for _, values in series) for i in range(len(days))]
    frame = _frame(width, height, max(totals, default=0))
    slot = (frame["right"] - frame["left"]) / max(1, len(days))
    bar_w = round(max(2.0, slot * 0.7), 1)
    label_every = max(1, math.ceil(len(days) / 12))  # at most ~12 date labels under the axis
    columns = []
    for i, day in enumerate(days):
        x = round(frame["left"] + slot * i + (slot - bar_w) / 2, 1)
        base, parts = 0, []
        for n, (name, values) in enumerate(series):
            if values[i]:
                y_top = _y(frame, base + values[i])
                parts.append({"y": y_top, "h": round(_y(frame, base) - y_top, 1), "series": n % SERIES_COLOURS,
                              "title": f"{day.isoformat()} {name}：{values[i]}"})
                base += values[i]
        columns.append({"x": x, "w": bar_w, "parts": parts, "total": totals[i], "cx": round(x + bar_w / 2, 1),
                        "label": day.strftime("%m-%d") if i % label_every == 0 else ""})
    return {**frame, "columns": columns,
            "legend": [{"name": name, "series": n % SERIES_COLOURS} for n, (name, _) in enumerate(series)]}


def horizontal_bars(rows: list[tuple[str, int]], width: int = 520, row_h: int = 28) -> dict:
    """One bar per (label, value), longest first as given, labels left of the bars."""
    height = 20 + row_h * max(1, len(rows))
    left = 110
    bound, _ = value_axis(max((v for _, v in rows), default=0))
    span = width - left - 50
    bars = [{"label": label, "value": value, "y": 10 + row_h * i, "h": row_h - 8, "w": round(span * value / bound, 1),
             "series": i % SERIES_COLOURS} for i, (label, value) in enumerate(rows)]
    return {"width": width, "height": height, "left": left, "bars": bars}


def funnel(stages: list[dict], width: int = 520, row_h: int = 40) -> dict:
    """Centred bars narrowing stage by stage; each shows its count and share of the first stage."""
    first = stages[0]["count"] if stages else 0
    span = width - 20
    bars = []
    for i, st in enumerate(stages):
        w = round(span * st["count"] / first, 1) if first else 0
        bars.append({"label": st["label"], "count": st["count"], "ratio": st["ratio"], "y": 8 + row_h * i,
                     "h": row_h - 8, "w": max(w, 2), "x": round((width - max(w, 2)) / 2, 1), "series": i})
    return {"width": width, "height": 8 + row_h * len(stages), "cx": width / 2, "bars": bars}


def _charts(data: dict, daily_by: str) -> dict:
    rows = data["channels"] if daily_by == "channel" else data["scenes"]
    return {"daily": stacked_days(data["days"], [(r["name"], r["daily"]) for r in rows]),
            "channels": horizontal_bars([(r["name"], r["total"]) for r in data["channels"]]),
            "funnel": funnel(data["funnel"])}


@bp.get("/leads/stats")
@permission_required("leads.view")
def index():
    period, errors = _period()
    data = read(lambda s: stats.lead_stats(s, period))
    daily_by = "channel" if request.args.get("daily") == "channel" else "scene"
    return render_template("lead_stats/index.html", data=data, period=period, errors=errors, daily_by=daily_by,
                           charts=_charts(data, daily_by), reason_labels=stats.REJECTION_REASONS,
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
