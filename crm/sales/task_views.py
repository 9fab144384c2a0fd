"""The ways 任务中心 shows tasks: a board grouped by date (今天 / 明天 / 本周 / 已过期 / 无截止日期),
by status or by priority, and a filtered list — each for 我的任务 (I own it), 我创建的 (I
created it) or 全部 (managers). Read-only; callers pass a Session.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Optional

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from config.clock import as_utc
from crm.customers.models import Customer
from crm.people.models import User
from crm.sales.models import PRIORITIES, TASK_STATUSES, Task
from crm.sales.task_dates import DATE_BUCKETS, bucket_range
from crm.sales.tasks import OPEN_STATUSES, PRIORITY_LABELS, STATUS_LABELS
from crm.scope import Viewer, tasks as task_scope

SCOPES = ("mine", "created", "all")
BOARD_KINDS = ("date", "status", "priority")
CARDS_PER_COLUMN = 100


@dataclass
class TaskFilter:
    user_id: int
    scope: str = "mine"  # mine | created | all
    status: Optional[str] = None
    priority: Optional[str] = None
    kind: Optional[str] = None
    customer_id: Optional[int] = None
    search: str = ""
    due_from: Optional[datetime] = None
    due_until: Optional[datetime] = None
    page: int = 1
    per_page: int = 20
    # Whose permissions bound the list (crm.scope.tasks); by default the user's own, unprivileged.
    viewer: Optional[Viewer] = None

    def scope_viewer(self) -> Viewer:
        return self.viewer or Viewer(self.user_id)


@dataclass
class Column:
    key: str
    label: str
    tasks: list = field(default_factory=list)
    total: int = 0
    droppable: bool = True


def _scope_where(f: TaskFilter) -> list:
    if f.scope == "created":
        return [Task.creator_id == f.user_id]
    if f.scope == "all":
        return []
    return [Task.owner_id == f.user_id]


def _filter_where(f: TaskFilter) -> list:
    where = _scope_where(f) + [task_scope(f.scope_viewer())]
    if f.status in TASK_STATUSES:
        where.append(Task.status == f.status)
    if f.priority in PRIORITIES:
        where.append(Task.priority == f.priority)
    if f.kind:
        where.append(Task.kind == f.kind)
    if f.customer_id:
        where.append(Task.customer_id == f.customer_id)
    if f.search.strip():
        like = f"%{f.search.strip()}%"
        where.append(or_(col(Task.title).like(like), col(Task.description).like(like)))
    if f.due_from:
        where.append(Task.deadline >= as_utc(f.due_from))
    if f.due_until:
        where.append(Task.deadline < as_utc(f.due_until))
    return where


def _decorate(session: Session, tasks: list[Task]) -> list[dict]:
    """Rows for templates: the task plus its customer's and people's display names."""
    customer_ids = {t.customer_id for t in tasks if t.customer_id}
    user_ids = {t.owner_id for t in tasks} | {t.creator_id for t in tasks if t.creator_id}
    customers = dict(session.exec(select(Customer.id, Customer.name).where(col(Customer.id).in_(customer_ids))).all()) \
        if customer_ids else {}
    users = {u.id: (u.display_name or u.username) for u in session.exec(select(User).where(col(User.id).in_(user_ids)))} \
        if user_ids else {}
    return [{"task": t, "customer_name": customers.get(t.customer_id, ""), "owner_name": users.get(t.owner_id, ""),
             "creator_name": users.get(t.creator_id, "")} for t in tasks]


def list_tasks(session: Session, f: TaskFilter) -> tuple[list[dict], int]:
    """列表视图: one page, nearest deadline first (no deadline last), and the total."""
    where = _filter_where(f)
    total = session.exec(select(func.count()).select_from(Task).where(*where)).one()
    rows = session.exec(select(Task).where(*where)
                        .order_by(Task.deadline.is_(None), Task.deadline, Task.id.desc())
                        .offset((max(1, f.page) - 1) * f.per_page).limit(f.per_page)).all()
    return _decorate(session, list(rows)), total


def _column(session: Session, key: str, label: str, where: list, droppable: bool = True) -> Column:
    total = session.exec(select(func.count()).select_from(Task).where(*where)).one()
    tasks = session.exec(select(Task).where(*where).order_by(Task.position, Task.id)
                         .limit(CARDS_PER_COLUMN)).all()
    return Column(key, label, _decorate(session, list(tasks)), total, droppable)


def board(session: Session, f: TaskFilter, kind: str, now: datetime, tz: str) -> list[Column]:
    """看板: columns in display order; within a column, cards in their dragged order."""
    base = _filter_where(f)
    if kind == "status":
        return [_column(session, s, STATUS_LABELS[s], base + [Task.status == s]) for s in TASK_STATUSES]
    if kind == "priority":
        return [_column(session, p, PRIORITY_LABELS[p], base + [Task.priority == p])
                for p in reversed(PRIORITIES)]
    columns = []
    for key, label in DATE_BUCKETS:
        low, high = bucket_range(key, now, tz)
        # The date board is an agenda: finished and cancelled tasks leave it.
        where = base + [col(Task.status).in_(OPEN_STATUSES)]
        if key == "none":
            where.append(Task.deadline.is_(None))
        else:
            where += ([Task.deadline >= low] if low is not None else []) + \
                     ([Task.deadline < high] if high is not None else [])
        columns.append(_column(session, key, label, where, droppable=key != "overdue"))
    return columns


def counts(session: Session, user_id: int, viewer: Optional[Viewer] = None) -> dict:
    """Tab badges: open tasks I own, open tasks I created (of those I may still open)."""
    open_ = and_(col(Task.status).in_(OPEN_STATUSES), task_scope(viewer or Viewer(user_id)))
    mine = session.exec(select(func.count()).select_from(Task).where(Task.owner_id == user_id, open_)).one()
    created = session.exec(select(func.count()).select_from(Task).where(Task.creator_id == user_id, open_)).one()
    return {"mine": mine, "created": created}
