"""Shared bits of the 销售管理 console pages (任务中心, 跟进, 模板, 通知, 定向营销): the signed-in
user, the configured zone, a write without engine reload (these pages change CRM rows, not
strategies), and reading the task and follow-up forms."""
from __future__ import annotations

from datetime import date
from typing import Callable, Optional

from flask import g, request
from sqlmodel import select

from crm.people.models import User
from web.console.forms_common import local_input, parse_local
from web.extensions import runtime
from web.input_limits import optional_int


def me() -> int:
    return g.user.id


def tz() -> str:
    return runtime().settings.timezone


def now():
    return runtime().services.now()


def save(fn: Callable):
    with runtime().services.db.write() as session:
        return fn(session)


def sees_all() -> bool:
    return "customers.view_all" in g.get("permissions", frozenset())


def user_choices(session) -> list[tuple[int, str]]:
    return [(u.id, u.display_name or u.username)
            for u in session.exec(select(User).where(User.enabled == True).order_by(User.id))]  # noqa: E712


def _int(name: str) -> Optional[int]:
    return optional_int(request.form.get(name))


def _date(name: str) -> Optional[date]:
    raw = (request.form.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def task_form() -> dict:
    f = request.form
    raw_progress = (f.get("progress") or "0").strip()
    return {"title": f.get("title", ""), "kind": f.get("kind", "normal"), "customer_id": _int("customer_id"),
            "owner_id": _int("owner_id"), "priority": f.get("priority", "normal"), "status": f.get("status", "todo"),
            "progress": raw_progress, "deadline": parse_local(f.get("deadline", "")),
            "remind_at": parse_local(f.get("remind_at", "")), "description": f.get("description", "")}


def task_values(task) -> dict:
    """A stored task as form values (times in the configured zone)."""
    return {"title": task.title, "kind": task.kind, "customer_id": task.customer_id or "",
            "owner_id": task.owner_id, "priority": task.priority, "status": task.status, "progress": task.progress,
            "deadline": local_input(task.deadline), "remind_at": local_input(task.remind_at),
            "description": task.description}


def posted_task_values(data: dict) -> dict:
    """What the user typed, shown again next to the errors."""
    return {**data, "deadline": request.form.get("deadline", ""), "remind_at": request.form.get("remind_at", ""),
            "customer_id": request.form.get("customer_id", "")}


def follow_form() -> dict:
    f = request.form
    return {"customer_id": _int("customer_id"), "task_id": _int("task_id"), "content": f.get("content", ""),
            "way": f.get("way", "phone"), "status": f.get("status", "following"),
            "maturity": (f.get("maturity") or "0").strip(), "next_follow_on": _date("next_follow_on"),
            "followed_at": parse_local(f.get("followed_at", "")) or None}
