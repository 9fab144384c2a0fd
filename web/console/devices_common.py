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


def health_chart(points: list[tuple[str, int]], width: int = 560, height: int = 160) -> dict:
    """Coordinates for templates/accounts/_health_chart.html: a polyline of (label, score 0–100)
    with bands at 90/70/50/30 (the seed's cap thresholds)."""
    pad_l, pad_r, pad_t, pad_b = 32, 12, 10, 22
    inner_w, inner_h = width - pad_l - pad_r, height - pad_t - pad_b

    def y(score: int) -> float:
        return round(pad_t + inner_h * (1 - max(0, min(100, score)) / 100), 1)

    n = len(points)
    xs = [round(pad_l + (inner_w * i / (n - 1) if n > 1 else inner_w / 2), 1) for i in range(n)]
    dots = [{"x": x, "y": y(score), "score": score, "label": label} for x, (label, score) in zip(xs, points)]
    return {"width": width, "height": height, "left": pad_l, "right": width - pad_r, "bottom": height - pad_b,
            "grid": [{"score": s, "y": y(s)} for s in (100, 90, 70, 50, 30, 0)],
            "polyline": " ".join(f"{d['x']},{d['y']}" for d in dots), "dots": dots,
            "first": dots[0]["label"] if dots else "", "last": dots[-1]["label"] if dots else ""}


def safe_next(fallback: str) -> str:
    """The form's `next` when it is a path on this site (never another host), else `fallback`."""
    from flask import request

    target = request.form.get("next") or ""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else fallback
