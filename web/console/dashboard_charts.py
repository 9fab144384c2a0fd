"""ECharts options for the 数据中心 dashboards, built in Python (plain JSON for ui.chart). Every data item
that stands for customers carries "link": the drill-down list behind it (dashboards.segment)."""
from __future__ import annotations

from flask import url_for


def seg_url(params: dict | None) -> str | None:
    return url_for("dashboards.segment", **params) if params else None


def _item(value, params=None, name=None) -> dict:
    out = {"value": value}
    if name is not None:
        out["name"] = name
    link = seg_url(params)
    if link:
        out["link"] = link
    return out


def trend(days, series: dict[str, list], labels: dict[str, str], money: set = frozenset()) -> dict:
    """Line chart of several daily series; amounts (分) are drawn in 元 on a second axis."""
    out = []
    for key, values in series.items():
        is_money = key in money
        out.append({"name": labels[key], "type": "line", "yAxisIndex": 1 if is_money else 0,
                    "data": [round(v / 100, 2) if is_money else v for v in values]})
    return {"tooltip": {"trigger": "axis"}, "legend": {"top": 0},
            "grid": {"left": 48, "right": 56, "top": 36, "bottom": 28},
            "xAxis": {"type": "category", "data": [d.strftime("%m-%d") for d in days]},
            "yAxis": [{"type": "value", "name": "人数"}, {"type": "value", "name": "元"}], "series": out}


def ranking(rows: list[dict], title: str) -> dict:
    """Horizontal bars, largest on top; values in 元, each bar opens its buyers."""
    rows = list(reversed(rows))
    return {"tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "grid": {"left": 96, "right": 40, "top": 10, "bottom": 24},
            "xAxis": {"type": "value", "name": "元"}, "yAxis": {"type": "category", "data": [r["name"] for r in rows]},
            "series": [{"name": title, "type": "bar",
                        "data": [_item(round(r["value"] / 100, 2), r["params"]) for r in rows]}]}


def funnel(steps: list[dict]) -> dict:
    return {"tooltip": {"trigger": "item", "formatter": "{b}：{c} 人"},
            "series": [{"name": "生命周期漏斗", "type": "funnel", "sort": "descending", "gap": 4, "minSize": "20%",
                        "label": {"show": True, "position": "inside", "formatter": "{b} {c}"},
                        "data": [_item(s["count"], s["params"], s["label"]) for s in steps]}]}


def segments_pie(rows: list[dict], params_for) -> dict:
    return {"tooltip": {"trigger": "item", "formatter": "{b}：{c} 人（{d}%）"}, "legend": {"type": "scroll", "bottom": 0},
            "series": [{"name": "RFM 分层", "type": "pie", "radius": ["35%", "65%"],
                        "data": [_item(r["customers"], params_for(r), r["label"]) for r in rows if r["customers"]]}]}


def segment_amounts(rows: list[dict], params_for) -> dict:
    return {"tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "grid": {"left": 56, "right": 20, "top": 20, "bottom": 60},
            "xAxis": {"type": "category", "data": [r["label"] for r in rows], "axisLabel": {"rotate": 30}},
            "yAxis": {"type": "value", "name": "元"},
            "series": [{"name": "消费金额", "type": "bar",
                        "data": [_item(round(r["amount_fen"] / 100, 2), params_for(r)) for r in rows]}]}
