"""The customer↔group links underneath every grouping move: which customers a call is about,
releasing links (with their 分配日志 "delete" rows) and keeping Customer.owner_id in step.

Callers pass customer ids as a list (console bulk actions) or as a SELECT of ids (rule runs);
lists are cut into batches so one statement never carries more bind parameters than the
database accepts, and every batch is still one set-based statement per step.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Iterator, Optional, Union

from sqlalchemy import and_, delete, exists, literal, select, update
from sqlalchemy.sql import Select
from sqlmodel import Session

from crm.customers.models import Customer
from crm.errors import CrmError, NotFound
from crm.groups.journal import write_logs
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from events import ordering

# events.ordering kinds, per (customer, group id): membership, and who the customer is assigned to.
GROUP_VERSION, OWNER_VERSION = "customer_group", "customer_owner"

BATCH = 5000
CustomerIds = Union[Iterable[int], Select]


def batches(customer_ids: CustomerIds) -> Iterator[Select]:
    """SELECTs of customer ids: the caller's own SELECT once, or a list in batches."""
    if isinstance(customer_ids, Select):
        yield customer_ids
        return
    ids = []
    for value in customer_ids or ():
        if isinstance(value, bool):
            raise CrmError("客户编号无效")
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise CrmError(f"客户编号「{value}」无效") from None
    ids = sorted(set(ids))
    for start in range(0, len(ids), BATCH):
        yield select(Customer.id).where(Customer.id.in_(ids[start:start + BATCH]))


def active(ids: Select) -> Select:
    """The active (not 回收站) customers among `ids`."""
    return select(Customer.id).where(Customer.id.in_(ids), Customer.status == "active")


def get_group(session: Session, group_id) -> CustomerGroup:
    group = session.get(CustomerGroup, group_id) if isinstance(group_id, int) else None
    if group is None:
        raise NotFound("客户分组不存在", {"group_id": "客户分组不存在"})
    return group


def member_role(session: Session, group_id: int, user_id: Optional[int]) -> Optional[str]:
    if user_id is None:
        return None
    member = session.get(GroupMember, (group_id, user_id))
    return member.role if member else None


def stamp_links(session: Session, kind: str, link_filter, now: datetime) -> None:
    """Remembers when the matching links' membership (GROUP_VERSION) or assignment (OWNER_VERSION)
    changed, so an event that happened earlier and arrives late does not undo the change."""
    ordering.stamp_select(session, kind, select(GroupLink.customer_id, GroupLink.group_id).where(link_filter), now)


def release_links(session: Session, link_filter, *, now: datetime, operator_id: Optional[int],
                  rule_name: str = "", reason: str = "", delete_links: bool) -> int:
    """Releases the links matching `link_filter`: a 分配日志 "delete" row for each assigned one,
    then either clears the assignment (back to the group pool) or deletes the link (and logs a
    分组日志 "delete"). Returns how many assignments were released."""
    assigned = and_(link_filter, GroupLink.assignee_id.isnot(None))
    stamp_links(session, OWNER_VERSION, assigned, now)
    if delete_links:
        stamp_links(session, GROUP_VERSION, link_filter, now)
    released = write_logs(
        session, select(GroupLink.customer_id, GroupLink.group_id, GroupLink.assignee_id, literal(None))
        .where(assigned), kind="allocation", action="delete", now=now, operator_id=operator_id,
        rule_name=rule_name, reason=reason)
    if delete_links:
        write_logs(session, select(GroupLink.customer_id, GroupLink.group_id, GroupLink.assignee_id, literal(None))
                   .where(link_filter), kind="group", action="delete", now=now, operator_id=operator_id,
                   rule_name=rule_name, reason=reason)
        session.execute(delete(GroupLink).where(link_filter).execution_options(synchronize_session=False))
    else:
        session.execute(update(GroupLink).where(assigned)
                        .values(assignee_id=None, assigned_at=None, last_followed_at=None, progress="")
                        .execution_options(synchronize_session=False))
    return released


def resync_owner(session: Session, customer_ids: Select, now: datetime) -> None:
    """Customer.owner_id follows the assignments: when the owner no longer holds any link of the
    customer, the most recently assigned remaining salesperson (or nobody) becomes the owner."""
    still_holds = exists().where(GroupLink.customer_id == Customer.id, GroupLink.assignee_id == Customer.owner_id)
    latest = (select(GroupLink.assignee_id)
              .where(GroupLink.customer_id == Customer.id, GroupLink.assignee_id.isnot(None))
              .order_by(GroupLink.assigned_at.desc(), GroupLink.id.desc()).limit(1).scalar_subquery())
    session.execute(update(Customer)
                    .where(Customer.id.in_(customer_ids), Customer.owner_id.isnot(None), ~still_holds)
                    .values(owner_id=latest, updated_at=now).execution_options(synchronize_session=False))
