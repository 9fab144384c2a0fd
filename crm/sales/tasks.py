"""任务中心: a salesperson's to-do list — ordinary tasks and 跟进任务 on a customer — with an
owner (负责人), a deadline, a reminder, a priority and a progress bar, moved between board
columns by drag-and-drop.

Functions take the caller's Session (inside `with services.db.write() as s:`) and never commit:
the caller's unit of work decides. Bad input raises CrmError naming the field, before any row
is written. Times are aware UTC; "end of tomorrow" and the date columns use the `tz` given
(settings.timezone).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import and_, insert, update
from sqlmodel import Session, col, select

from config.clock import as_utc, utcnow
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.people.models import User
from crm.sales.models import PRIORITIES, TASK_KINDS, TASK_STATUSES, Task
from crm.scope import Viewer, load, visible_ids
from crm.sales.task_dates import bucket_range, deadline_for_bucket, end_of_day, local_today

STATUS_LABELS = {"todo": "待办", "doing": "进行中", "done": "已完成", "cancelled": "已取消"}
PRIORITY_LABELS = {"low": "低", "normal": "普通", "high": "高", "urgent": "紧急"}
KIND_LABELS = {"normal": "普通任务", "follow_up": "跟进任务"}
OPEN_STATUSES = ("todo", "doing")
DEFAULT_TZ: str | None = None  # the configured zone (config.clock.zone)
_ID_CHUNK = 500  # below every database's bound-parameter limit


def get_task(session: Session, task_id: int, viewer: Viewer) -> Task:
    """The task if `viewer` may open it (crm.scope.tasks); NotFound otherwise."""
    return load(session, viewer, Task, task_id)


def _int(value, field: str, label: str, errors: dict, low=None, high=None) -> Optional[int]:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = f"{label}必须是整数"
        return None
    if (low is not None and number < low) or (high is not None and number > high):
        errors[field] = f"{label}必须在 {low}–{high} 之间"
        return None
    return number


def _time(value, field: str, label: str, errors: dict) -> Optional[datetime]:
    if value in (None, ""):
        return None
    if not isinstance(value, datetime):
        errors[field] = f"{label}不是有效的时间"
        return None
    return as_utc(value)


def clean_task(session: Session, data: dict, viewer: Viewer, current: Optional[Task] = None) -> dict:
    """The validated fields of a task form; CrmError lists every bad field at once. The customer
    must be one `viewer` may see: another's customer reads as 不存在, so its name never shows."""
    errors: dict = {}
    base = current.model_dump() if current else {}
    merged = {**base, **data}
    title = str(merged.get("title") or "").strip()
    if not title:
        errors["title"] = "请填写任务标题"
    elif len(title) > 200:
        errors["title"] = "任务标题不能超过 200 字"
    kind = merged.get("kind") or "normal"
    if kind not in TASK_KINDS:
        errors["kind"] = "任务类型只能是普通任务或跟进任务"
    status = merged.get("status") or "todo"
    if status not in TASK_STATUSES:
        errors["status"] = "状态只能是待办、进行中、已完成或已取消"
    priority = merged.get("priority") or "normal"
    if priority not in PRIORITIES:
        errors["priority"] = "优先级只能是低、普通、高或紧急"
    owner_id = _int(merged.get("owner_id"), "owner_id", "负责人", errors)
    if owner_id is None and "owner_id" not in errors:
        errors["owner_id"] = "请选择负责人"
    elif owner_id is not None and session.get(User, owner_id) is None:
        errors["owner_id"] = "负责人不存在"
    customer_id = _int(merged.get("customer_id"), "customer_id", "关联客户", errors)
    if customer_id is not None and not visible_ids(session, viewer, Customer, [customer_id]):
        errors["customer_id"] = "关联客户不存在"
    if kind == "follow_up" and customer_id is None and "customer_id" not in errors:
        errors["customer_id"] = "跟进任务必须关联客户"
    progress = _int(merged.get("progress") or 0, "progress", "进度", errors, 0, 100) or 0
    deadline = _time(merged.get("deadline"), "deadline", "截止时间", errors)
    remind_at = _time(merged.get("remind_at"), "remind_at", "提醒时间", errors)
    if deadline and remind_at and remind_at > deadline:
        errors["remind_at"] = "提醒时间不能晚于截止时间"
    description = str(merged.get("description") or "")
    if len(description) > 2000:
        errors["description"] = "任务描述不能超过 2000 字"
    if errors:
        raise CrmError("任务信息有误：" + "；".join(errors.values()), errors)
    return dict(title=title, kind=kind, status=status, priority=priority, owner_id=owner_id,
                customer_id=customer_id, progress=progress, deadline=deadline, remind_at=remind_at,
                description=description)


def _apply_status(task: Task, status: str, now: datetime) -> None:
    if status == "done" and task.status != "done":
        task.finished_at, task.progress = now, 100
    elif status != "done":
        task.finished_at = None
    task.status = status


def create_task(session: Session, data: dict, creator_id: Optional[int] = None,
                now: Optional[datetime] = None, *, viewer: Viewer) -> Task:
    now = as_utc(now or utcnow())
    fields = clean_task(session, data, viewer)
    status = fields.pop("status")
    task = Task(**fields, creator_id=creator_id, created_at=now)
    _apply_status(task, status, now)
    # New tasks go on top of their status column.
    task.position = _top_position(session, Task.status == status)
    session.add(task)
    session.flush()
    return task


def update_task(session: Session, task_id: int, data: dict, now: Optional[datetime] = None, *,
                viewer: Viewer) -> Task:
    now = as_utc(now or utcnow())
    task = get_task(session, task_id, viewer)
    fields = clean_task(session, data, viewer, task)
    status = fields.pop("status")
    if fields["deadline"] != task.deadline or fields["remind_at"] != task.remind_at:
        # A rescheduled task deserves a fresh reminder and a fresh overdue notice.
        task.reminded = task.reminded and fields["remind_at"] == task.remind_at
        task.overdue_notified = task.overdue_notified and fields["deadline"] == task.deadline
    for name, value in fields.items():
        setattr(task, name, value)
    _apply_status(task, status, now)
    session.add(task)
    session.flush()
    return task


def set_status(session: Session, task_ids: Iterable[int], status: str, now: Optional[datetime] = None, *,
               viewer: Viewer) -> int:
    """Bulk 标记完成 / 取消 of the tasks `viewer` may open; returns how many tasks changed."""
    if status not in TASK_STATUSES:
        raise CrmError("状态只能是待办、进行中、已完成或已取消", {"status": "状态无效"})
    now = as_utc(now or utcnow())
    ids = visible_ids(session, viewer, Task, task_ids)
    if not ids:
        return 0
    values = {"status": status, "finished_at": now if status == "done" else None}
    if status == "done":
        values["progress"] = 100
    stmt = update(Task).where(col(Task.id).in_(ids), Task.status != status).values(**values)
    return session.exec(stmt).rowcount


def _top_position(session: Session, *where) -> int:
    lowest = session.exec(select(Task.position).where(*where).order_by(Task.position).limit(1)).first()
    return (lowest - 1) if lowest is not None else 0


def _column_filter(column_kind: str, column_value: str, now: datetime, tz: str):
    if column_kind == "status":
        return Task.status == column_value
    if column_kind == "priority":
        return Task.priority == column_value
    low, high = bucket_range(column_value, now, tz)
    if column_value == "none":
        return Task.deadline.is_(None)
    parts = [col(Task.status).in_(OPEN_STATUSES)]
    parts += [Task.deadline >= low] if low is not None else []
    parts += [Task.deadline < high] if high is not None else []
    return and_(*parts)


def move_task(session: Session, task_id: int, column_kind: str, column_value: str, position: int,
              now: Optional[datetime] = None, tz: str = DEFAULT_TZ, *, viewer: Viewer) -> Task:
    """Drag-and-drop: puts the task into a board column (a status, a priority or a date column)
    at `position` (0 = top), shifting the cards below it down with one UPDATE."""
    now = as_utc(now or utcnow())
    task = get_task(session, task_id, viewer)
    if column_kind == "status":
        if column_value not in TASK_STATUSES:
            raise CrmError("未知的状态列", {"column": "状态无效"})
        _apply_status(task, column_value, now)
    elif column_kind == "priority":
        if column_value not in PRIORITIES:
            raise CrmError("未知的优先级列", {"column": "优先级无效"})
        task.priority = column_value
    elif column_kind == "date":
        try:
            new_deadline = deadline_for_bucket(column_value, task.deadline, now, tz)
        except (ValueError, KeyError):
            raise CrmError("不能把任务拖到这一列（已过期列不接受拖入，本周已无可安排的日期时也不行）",
                           {"column": "目标列无效"}) from None
        if new_deadline != task.deadline:
            task.deadline, task.overdue_notified = new_deadline, False
            if task.remind_at and new_deadline and task.remind_at > new_deadline:
                task.remind_at = None
    else:
        raise CrmError("未知的看板分组方式", {"column": "分组方式无效"})
    position = max(0, int(position or 0))
    in_column = _column_filter(column_kind, column_value, now, tz)
    ordered = session.exec(select(Task.position).where(in_column, Task.id != task.id)
                           .order_by(Task.position, Task.id).offset(position).limit(1)).first()
    if ordered is None:  # dropped below the last card
        last = session.exec(select(Task.position).where(in_column, Task.id != task.id)
                            .order_by(Task.position.desc()).limit(1)).first()
        task.position = (last + 1) if last is not None else 0
    else:
        session.exec(update(Task).where(in_column, Task.id != task.id, Task.position >= ordered)
                     .values(position=Task.position + 1))
        task.position = ordered
    session.add(task)
    session.flush()
    return task


def create_follow_up_tasks(session: Session, pairs, creator_id: Optional[int] = None,
                           now: Optional[datetime] = None, tz: str = DEFAULT_TZ) -> int:
    """One 跟进任务 per (customer_id, user_id) — "跟进客户 <姓名>", due by the end of the next local
    day — skipping pairs that already have an open follow-up task. Returns how many were created.
    Rows go in with one multi-row INSERT per chunk (allocation hands over thousands at once)."""
    now = as_utc(now or utcnow())
    wanted = list(dict.fromkeys((int(c), int(u)) for c, u in pairs))
    if not wanted:
        return 0
    deadline = end_of_day(local_today(now, tz) + timedelta(days=1), tz)
    created = 0
    for start in range(0, len(wanted), _ID_CHUNK):
        chunk = wanted[start:start + _ID_CHUNK]
        customer_ids = {c for c, _ in chunk}
        names = dict(session.exec(select(Customer.id, Customer.name).where(col(Customer.id).in_(customer_ids))).all())
        existing = set(session.exec(select(Task.customer_id, Task.owner_id).where(
            Task.kind == "follow_up", col(Task.status).in_(OPEN_STATUSES),
            col(Task.customer_id).in_(customer_ids))).all())
        rows = [dict(title=f"跟进客户 {names[c] or ('#' + str(c))}"[:200], kind="follow_up", customer_id=c,
                     owner_id=u, creator_id=creator_id, deadline=deadline, priority="normal", status="todo",
                     progress=0, description="", position=0, reminded=False, overdue_notified=False,
                     created_at=now)
                for c, u in chunk if c in names and (c, u) not in existing]
        if rows:
            session.exec(insert(Task), params=rows)
            created += len(rows)
    return created

