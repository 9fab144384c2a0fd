"""Who sees which customers (客户档案, exports, detail pages, bulk actions): holders of
"查看全部客户" (customers.view_all) see everyone; everybody else sees the customers they follow
(负责人, or assigned to them in a group) and every customer of the groups they manage
(部门经理 = GroupMember role manager). One function so every area applies the same rule;
services reach it through crm/scope.py, which also scopes leads, tasks and follow-ups by it."""
from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import exists, false, or_, select, true
from sqlmodel import Session

from crm.customers.models import Customer
from crm.groups.models import GroupLink, GroupMember


def visible_customers_clause(session: Session, user_id: Optional[int], permissions: Iterable[str]):
    """A boolean SQL clause on Customer: the rows this user may see."""
    if "customers.view_all" in set(permissions or ()):
        return true()
    if user_id is None:
        return false()
    managed = select(GroupMember.group_id).where(GroupMember.user_id == user_id, GroupMember.role == "manager")
    in_managed_group = exists().where(GroupLink.customer_id == Customer.id, GroupLink.group_id.in_(managed))
    assigned = exists().where(GroupLink.customer_id == Customer.id, GroupLink.assignee_id == user_id)
    return or_(Customer.owner_id == user_id, assigned, in_managed_group)

