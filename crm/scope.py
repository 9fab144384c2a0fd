"""Whose records a user may see and change (object-level permission), in one place.

A 业务员 works on the customers they follow (see crm/customers/visibility.py for the rule), the
leads assigned to them, and the tasks and 跟进记录 on those customers. Every service that reads
or writes one of these objects for a person loads it through this module, so a view cannot
forget the check: a row outside the user's scope is "not found", exactly like an unknown id, and
its name never reaches the page.

Tasks and follow-ups follow the customer's current owner: a 跟进任务 left behind after the
customer was handed to someone else no longer opens that customer to its old owner.

Callers acting for the system itself (the engine, scheduled jobs, processors) pass `SYSTEM`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from sqlalchemy import and_, false, or_, true
from sqlmodel import Session, col, select

from crm.customers.models import Customer
from crm.customers.visibility import visible_customers_clause
from crm.errors import NotFound
from crm.leads.errors import LeadNotFound
from crm.leads.models import Lead
from crm.sales.models import FollowUp, Task


@dataclass(frozen=True)
class Viewer:
    """The person a service acts for: their id and permission names. `system` is the engine."""

    user_id: Optional[int]
    permissions: frozenset = frozenset()
    system: bool = False

    def has(self, name: str) -> bool:
        return self.system or name in self.permissions


SYSTEM = Viewer(None, frozenset(), system=True)


def customers(viewer: Viewer):
    """A boolean clause on Customer: the customers `viewer` may see and change."""
    if viewer.system:
        return true()
    return visible_customers_clause(None, viewer.user_id, viewer.permissions)


def _visible_customer_ids(viewer: Viewer):
    return select(Customer.id).where(customers(viewer))


def leads(viewer: Viewer):
    """Leads: all with 查看全部线索 (leads.view_all), else the ones assigned to the viewer."""
    if viewer.has("leads.view_all"):
        return true()
    if viewer.user_id is None:
        return false()
    return Lead.assignee_user_id == viewer.user_id


def tasks(viewer: Viewer):
    """Tasks: the viewer's own and the ones they created, and only while the task's customer
    (if any) is still theirs to see; everything with 查看全部客户."""
    if viewer.has("customers.view_all"):
        return true()
    if viewer.user_id is None:
        return false()
    theirs = or_(Task.owner_id == viewer.user_id, Task.creator_id == viewer.user_id)
    return and_(theirs, or_(col(Task.customer_id).is_(None), col(Task.customer_id).in_(_visible_customer_ids(viewer))))


def follow_ups(viewer: Viewer):
    """跟进记录: those on customers the viewer may see."""
    if viewer.system:
        return true()
    return col(FollowUp.customer_id).in_(_visible_customer_ids(viewer))


_CLAUSES = {Customer: (customers, NotFound, "客户不存在或无权查看（编号 {id}）"), Lead: (leads, LeadNotFound, "线索 {id} 不存在"),
            Task: (tasks, NotFound, "任务不存在或已删除（编号 {id}）"), FollowUp: (follow_ups, NotFound, "跟进记录不存在（编号 {id}）")}


def row_key(object_id) -> Optional[int]:
    """An id from a URL or form as a 64-bit integer, or None (then the row is "not found")."""
    try:
        key = int(object_id)
    except (TypeError, ValueError):
        return None
    return key if -2 ** 63 <= key < 2 ** 63 else None


def load(session: Session, viewer: Viewer, model, object_id):
    """The row of `model` with this id if `viewer` may see it; NotFound otherwise (an unknown id
    and a row of someone else's answer alike)."""
    clause, error, message = _CLAUSES[model]
    key = row_key(object_id)
    row = None
    if key is not None:
        row = session.exec(select(model).where(model.id == key, clause(viewer))).first()
    if row is None:
        raise error(message.format(id=object_id))
    return row


def visible_ids(session: Session, viewer: Viewer, model, ids: Iterable) -> list[int]:
    """The ids among `ids` that `viewer` may see, in the order given (others silently dropped)."""
    wanted = [int(i) for i in ids]
    if not wanted:
        return []
    clause = _CLAUSES[model][0]
    found = set(session.exec(select(model.id).where(col(model.id).in_(wanted), clause(viewer))).all())
    return [i for i in wanted if i in found]
