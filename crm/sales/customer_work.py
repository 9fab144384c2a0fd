"""One customer's 跟进记录 and 任务 (the detail page's follow-up list, /api/v1/customers/<id>/…):
the customer is loaded through crm.scope first, so another salesperson's customer answers
NotFound like an unknown id before any input is looked at, then the ordinary services run.

Functions take the caller's Session; writes happen inside the caller's unit of work.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Optional

from sqlmodel import Session, col, select

from crm.customers.models import Customer
from crm.sales.followups import list_follow_ups, record_follow_up
from crm.sales.models import FollowUp, Task
from crm.sales.tasks import DEFAULT_TZ, create_task
from crm.scope import Viewer, load, tasks as task_scope

MAX_LISTED = 200


def customer_follow_ups(session: Session, customer_id: int, viewer: Viewer, limit: int = 50) -> list[FollowUp]:
    """Newest first."""
    customer = load(session, viewer, Customer, customer_id)
    return list_follow_ups(session, customer_id=customer.id, limit=min(limit, MAX_LISTED), viewer=viewer)


def _same(data: dict) -> dict:
    return data


def add_follow_up(session: Session, customer_id: int, data: dict, user_id: int, now: Optional[datetime] = None,
                  tz: str = DEFAULT_TZ, *, viewer: Viewer, prepare: Callable[[dict], dict] = _same) -> FollowUp:
    """record_follow_up for this customer (a task_id must be a task of the same customer).
    `prepare` is the caller's parsing of its raw input, run once the customer is found."""
    customer = load(session, viewer, Customer, customer_id)
    data = prepare(data)
    return record_follow_up(session, {**data, "customer_id": customer.id}, user_id, now=now, tz=tz, viewer=viewer)


def customer_tasks(session: Session, customer_id: int, viewer: Viewer, status: Optional[str] = None,
                   limit: int = 50) -> list[Task]:
    """The customer's tasks the viewer may open (their own and those they created, or all with
    查看全部客户), open ones first by deadline, then the rest newest first."""
    customer = load(session, viewer, Customer, customer_id)
    where = [Task.customer_id == customer.id, task_scope(viewer)]
    if status:
        where.append(Task.status == status)
    closed = col(Task.status).in_(("done", "cancelled"))
    return list(session.exec(select(Task).where(*where)
                             .order_by(closed, col(Task.deadline).is_(None), Task.deadline, Task.id.desc())
                             .limit(min(limit, MAX_LISTED))))


def add_task(session: Session, customer_id: int, data: dict, creator_id: Optional[int],
             now: Optional[datetime] = None, *, viewer: Viewer, prepare: Callable[[dict], dict] = _same) -> Task:
    """create_task on this customer; the owner defaults to the creator (`prepare` as above)."""
    customer = load(session, viewer, Customer, customer_id)
    data = {"owner_id": creator_id, "kind": "follow_up", **prepare(data), "customer_id": customer.id}
    return create_task(session, data, creator_id, now=now, viewer=viewer)
