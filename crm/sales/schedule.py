"""Timed work of 任务中心, run by the engine's cron (every 5 minutes, on the scheduler leader):
at a task's 提醒时间 its owner gets an in-site notification, and when its deadline passes
unfinished it is marked overdue once — the owner is told and `crm.task_overdue` is emitted so a
strategy can escalate (notify the manager, send an SMS…).

`CRON_SPECS` lists (key, name, cron fields, fn(services) -> summary) for engine.cron to register.
Each batch is its own transaction and flips the task's flag in it, so a crash mid-way neither
loses nor repeats a reminder.
"""
from __future__ import annotations

from sqlalchemy import insert, update
from sqlmodel import col, select

from config.clock import as_utc, format_local
from crm.events_out import emit
from crm.people.models import Notification
from crm.people.users import load_identity
from crm.sales.models import Task
from crm.sales.tasks import OPEN_STATUSES
from crm.scope import Viewer, visible_ids

BATCH = 500
OVERDUE_EVENT = "crm.task_overdue"


def task_link(task_id: int) -> str:
    return f"/worktasks/tasks/{task_id}"


def _when(value, tz: str) -> str:
    return format_local(value, tz_name=tz, empty="无")


def _owner_may_open(services, session, tasks: list[Task]) -> set[int]:
    """Ids of the tasks their owner may still open (crm.scope): a task left on a customer since
    handed to someone else is not announced to its old owner, whose notice would name the customer."""
    shown: set[int] = set()
    for owner in {t.owner_id for t in tasks}:
        viewer = Viewer(owner, frozenset(load_identity(services.db, owner)[1]))
        shown.update(visible_ids(session, viewer, Task, [t.id for t in tasks if t.owner_id == owner]))
    return shown


def _notify(session, tasks: list[Task], shown: set[int], title: str, tz: str, now) -> None:
    rows = [dict(user_id=t.owner_id, title=f"{title}：{t.title}"[:200], body=f"截止时间：{_when(t.deadline, tz)}",
                 link=task_link(t.id), source="task", read=False, created_at=now) for t in tasks if t.id in shown]
    if rows:
        session.exec(insert(Notification), params=rows)


def send_reminders(services) -> int:
    """提醒: one notification per task whose reminder time has come."""
    tz, now, total = services.settings.timezone, as_utc(services.now()), 0
    while True:
        with services.db.write() as s:
            tasks = list(s.exec(select(Task).where(
                Task.remind_at.is_not(None), Task.remind_at <= now, Task.reminded == False,  # noqa: E712
                col(Task.status).in_(OPEN_STATUSES)).order_by(Task.id).limit(BATCH)))
            if not tasks:
                return total
            _notify(s, tasks, _owner_may_open(services, s, tasks), "任务提醒", tz, now)
            s.exec(update(Task).where(col(Task.id).in_([t.id for t in tasks])).values(reminded=True))
            total += len(tasks)


def mark_overdue(services) -> int:
    """逾期: tells the owner and emits crm.task_overdue, once per task."""
    tz, now, total = services.settings.timezone, as_utc(services.now()), 0
    while True:
        with services.db.write() as s:
            tasks = list(s.exec(select(Task).where(
                Task.deadline.is_not(None), Task.deadline < now, Task.overdue_notified == False,  # noqa: E712
                col(Task.status).in_(OPEN_STATUSES)).order_by(Task.id).limit(BATCH)))
            if not tasks:
                return total
            _notify(s, tasks, _owner_may_open(services, s, tasks), "任务已逾期", tz, now)
            s.exec(update(Task).where(col(Task.id).in_([t.id for t in tasks])).values(overdue_notified=True))
            for t in tasks:
                data = {"task_id": t.id, "title": t.title, "kind": t.kind, "owner_id": t.owner_id,
                        "creator_id": t.creator_id, "customer_id": t.customer_id, "priority": t.priority,
                        "deadline": as_utc(t.deadline).isoformat()}
                emit(s, OVERDUE_EVENT, {k: v for k, v in data.items() if v is not None}, tz)
            total += len(tasks)


def task_reminders(services) -> str:
    reminded = send_reminders(services)
    overdue = mark_overdue(services)
    return f"任务提醒 {reminded} 条，新逾期任务 {overdue} 个"


CRON_SPECS = [("task_reminders", "任务提醒与逾期", {"minute": "*/5"}, task_reminders)]
