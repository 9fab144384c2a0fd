"""What the 设备管理, 微信号管理 and 内容库 pages share: one unit of work per request, staff
names for owners and handlers, turning a refused change into a flash message, and the 健康分
chart drawn as inline SVG (no chart library, nothing inline for the CSP to block)."""
from __future__ import annotations

from typing import Callable, Optional

from flask import flash, g
from sqlmodel import select

from crm.people.models import User
from web.extensions import services
from web.input_limits import optional_int


def read(fn: Callable):
    with services().db.read() as session:
        return fn(session)


def write(fn: Callable):
    with services().db.write() as session:
        return fn(session)


def uid() -> int:
    return g.user.id


def int_arg(value) -> Optional[int]:
    return optional_int(value)


def staff_names(session) -> dict[int, str]:
    return {u.id: u.display_name or u.username for u in session.exec(select(User).order_by(User.id)).all()}


def flash_refusal(exc, prefix: str = "") -> None:
    details = [str(v) for v in (getattr(exc, "errors", None) or {}).values()]
    message = getattr(exc, "message", None) or str(exc)
    flash(prefix + message + ("：" + "；".join(details) if details and details != [message] else ""), "error")


# The seed's add-friend cap bands (devices/health.py ADD_FRIEND_CAPS): 90/70/50/30.
HEALTH_BANDS = ((90, 100, "优秀"), (70, 90, "良好"), (50, 70, "一般"), (30, 50, "警告"), (0, 30, "危险"))


def health_chart(points: list[tuple[str, int]]) -> dict:
    """The ECharts option of an account's 健康分 history (ui.chart): a line of (label, score 0–100)
    over shaded bands at 90/70/50/30, where the daily add-friend cap changes."""
    return {"grid": {"left": 36, "right": 16, "top": 12, "bottom": 28},
            "tooltip": {"trigger": "axis"},
            "xAxis": {"type": "category", "boundaryGap": False, "data": [label for label, _ in points]},
            "yAxis": {"type": "value", "min": 0, "max": 100, "interval": 10},
            "series": [{"type": "line", "name": "健康分", "symbolSize": 6,
                        "data": [max(0, min(100, score)) for _, score in points],
                        "markArea": {"silent": True, "itemStyle": {"opacity": 0.06},
                                     "label": {"position": "insideRight", "color": "#6b7280"},
                                     "data": [[{"yAxis": low, "name": name}, {"yAxis": high}]
                                              for low, high, name in HEALTH_BANDS]}}]}


def safe_next(fallback: str) -> str:
    """The form's `next` when it is a path on this site (never another host), else `fallback`."""
    from flask import request

    target = request.form.get("next") or ""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else fallback
