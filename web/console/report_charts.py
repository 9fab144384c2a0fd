"""ECharts options for the report pages (plain JSON built here, drawn by static/js/charts.js). Each
point carries the link of the drill-down list behind it, so a click opens those people."""
from __future__ import annotations

from typing import Callable

from analytics.kpis import kpi


def trend_option(trend: dict, days: list, link: Callable[[str, object], str]) -> dict:
    names = {m: kpi(m).label for m in trend}
    return {
        "tooltip": {"trigger": "axis"},
        "legend": {"data": list(names.values()), "top": 0},
        "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
        "xAxis": {"type": "category", "data": [d.strftime("%m-%d") for d in days]},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [{"name": names[m], "type": "line", "smooth": True, "symbolSize": 7,
                    "data": [{"value": series[d], "link": link(m, d)} for d in days]}
                   for m, series in trend.items()],
    }


def ranking_option(rows: list, metric: str, link: Callable[[object], str]) -> dict:
    top = rows[:10][::-1]  # best at the top of a horizontal bar chart
    return {
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": {"left": 90, "right": 24, "top": 8, "bottom": 24},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "data": [r["scope"].name for r in top]},
        "series": [{"name": kpi(metric).label, "type": "bar",
                    "data": [{"value": r["values"][metric], "link": link(r["scope"])} for r in top]}],
    }
