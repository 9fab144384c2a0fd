"""分组与分配的基本动作: put customers into a group, assign them to a salesperson, send them back
to the group pool (小组公海) or the company pool (公司公海). The recycle bin and 客户批量转移 live
in crm.groups.recycle_bin and crm.groups.transfer and are re-exported here.

Every function works inside the caller's Session (`with services.db.write() as s:`), is
set-based (a few statements per call, whatever the number of customers), writes one CrmLog row
and one 成长记录 line per changed customer, and returns how many customers it changed.
Customers in the recycle bin are never grouped or assigned. `now` defaults to the wall clock;
rule runs and tests pass the services clock.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import and_, exists, func, insert, literal, select, update
from sqlmodel import Session

from config.clock import utcnow
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups.journal import ASSIGNED_EVENT, RECYCLED_EVENT, emit_events, write_growth, write_logs
from crm.groups.links import (GROUP_VERSION, OWNER_VERSION, CustomerIds, active, batches, get_group, member_role,
                              release_links, resync_owner)
from crm.groups.models import GroupLink
from crm.groups.recycle_bin import move_to_recycle_bin, restore_from_recycle_bin
from crm.groups.transfer import transfer
from crm.people.models import User
from events import ordering

__all__ = ["add_to_group", "assign", "release_to_group_pool", "release_to_company_pool", "move_to_recycle_bin",
           "restore_from_recycle_bin", "transfer"]


def add_to_group(session: Session, customer_ids: CustomerIds, group_id: int, operator_id: Optional[int],
                 break_old: bool = False, reason: str = "", *, now: Optional[datetime] = None,
                 rule_name: str = "") -> int:
    """Adds active customers to the group's pool. break_old: their other groups (and any
    assignment there) are released first. Returns how many joined the group."""
    group = get_group(session, group_id)
    now = now or utcnow()
    added = 0
    for ids in batches(customer_ids):
        scope = active(ids)
        if break_old:
            others = and_(GroupLink.customer_id.in_(scope), GroupLink.group_id != group.id)
            release_links(session, others, now=now, operator_id=operator_id, rule_name=rule_name, reason=reason,
                          delete_links=True)
            resync_owner(session, scope, now)
        linked = exists().where(GroupLink.customer_id == Customer.id, GroupLink.group_id == group.id)
        joining = (Customer.id.in_(scope), ~linked)
        new = select(Customer.id).where(*joining)
        count = write_logs(session, select(Customer.id, literal(group.id), literal(None), literal(None)).where(*joining),
                           kind="group", action="add", now=now, operator_id=operator_id, rule_name=rule_name,
                           reason=reason)
        if not count:
            continue
        ordering.stamp_select(session, GROUP_VERSION, new, now, attribute=group.id)
        write_growth(session, new, kind="group", summary=f"加入分组「{group.name}」" + (f"（{rule_name}）" if rule_name else ""),
                     now=now, operator_id=operator_id)
        link = GroupLink.__table__.c
        session.execute(insert(GroupLink.__table__).from_select(
            ["customer_id", "group_id", "grouped_at", "progress"],
            select(Customer.id, literal(group.id), literal(now, type_=link.grouped_at.type), literal("")).where(*joining)))
        added += count
    return added


def assign(session: Session, customer_ids: CustomerIds, group_id: int, user_id: int, operator_id: Optional[int],
           reason: str = "", *, now: Optional[datetime] = None, rule_name: str = "", action: str = "assign") -> int:
    """Assigns active customers of the group (customers not yet in it join it first) to a
    member of the group; Customer.owner_id becomes that member. Returns how many changed hands."""
    group = get_group(session, group_id)
    if member_role(session, group.id, user_id) is None:
        raise CrmError(f"该用户不是分组「{group.name}」的成员，不能分配", {"user_id": "只能分配给本分组的成员"})
    user = session.get(User, user_id)
    now = now or utcnow()
    total = 0
    for ids in batches(customer_ids):
        scope = active(ids)
        add_to_group(session, scope, group.id, operator_id, now=now, rule_name=rule_name, reason=reason)
        changing = and_(GroupLink.group_id == group.id, GroupLink.customer_id.in_(scope),
                        func.coalesce(GroupLink.assignee_id, -1) != user_id)
        count = write_logs(session, select(GroupLink.customer_id, GroupLink.group_id, GroupLink.assignee_id,
                                           literal(user_id)).where(changing),
                           kind="allocation", action=action, now=now, operator_id=operator_id, rule_name=rule_name,
                           reason=reason)
        if not count:
            continue
        ordering.stamp_select(session, OWNER_VERSION, select(GroupLink.customer_id).where(changing), now,
                              attribute=group.id)
        write_growth(session, select(GroupLink.customer_id).where(changing), kind="assign",
                     summary=f"分配给 {user.display_name or user.username}（{group.name}）", now=now,
                     operator_id=operator_id)
        session.execute(update(GroupLink).where(changing)
                        .values(assignee_id=user_id, assigned_at=now, last_followed_at=None, progress="")
                        .execution_options(synchronize_session=False))
        session.execute(update(Customer).where(Customer.id.in_(scope))
                        .values(owner_id=user_id, updated_at=now).execution_options(synchronize_session=False))
        emit_events(session, ASSIGNED_EVENT, select(
            GroupLink.customer_id.label("customer_id"), GroupLink.group_id.label("group_id"),
            GroupLink.assignee_id.label("user_id")).where(
            GroupLink.group_id == group.id, GroupLink.customer_id.in_(scope), GroupLink.assignee_id == user_id,
            GroupLink.assigned_at == now))
        total += count
    return total


def release_to_group_pool(session: Session, customer_ids: CustomerIds, group_id: int, operator_id: Optional[int],
                          *, now: Optional[datetime] = None, rule_name: str = "", reason: str = "",
                          automatic: bool = False) -> int:
    """退回小组公海: the customers stay in the group, unassigned. Logs 分配日志 "delete" and a
    回收历史 "回组" row. Returns how many assignments were released."""
    group = get_group(session, group_id)
    now = now or utcnow()
    total = 0
    for ids in batches(customer_ids):
        held = and_(GroupLink.group_id == group.id, GroupLink.customer_id.in_(ids), GroupLink.assignee_id.isnot(None))
        write_logs(session, select(GroupLink.customer_id, GroupLink.group_id, GroupLink.assignee_id, literal(None))
                   .where(held), kind="recycle", action="release", now=now,
                   operator_id=None if automatic else operator_id, rule_name=rule_name, reason=reason)
        affected = select(GroupLink.customer_id).where(held)
        write_growth(session, affected, kind="recycle", summary=f"退回分组「{group.name}」公海"
                     + (f"（{rule_name}）" if rule_name else ""), now=now, operator_id=operator_id)
        emit_events(session, RECYCLED_EVENT, select(
            GroupLink.customer_id.label("customer_id"), GroupLink.group_id.label("group_id"),
            GroupLink.assignee_id.label("from_user_id"), literal("group_pool").label("destination")).where(held))
        count = release_links(session, and_(GroupLink.group_id == group.id, GroupLink.customer_id.in_(ids)), now=now,
                              operator_id=operator_id, rule_name=rule_name, reason=reason, delete_links=False)
        resync_owner(session, select(GroupLink.customer_id).where(GroupLink.group_id == group.id,
                                                                  GroupLink.customer_id.in_(ids)), now)
        total += count
    return total


def release_to_company_pool(session: Session, customer_ids: CustomerIds, operator_id: Optional[int], *,
                            now: Optional[datetime] = None, rule_name: str = "", reason: str = "") -> int:
    """退回公司公海: every group relation of the customers is deleted (分配日志/分组日志 "delete",
    回收历史 "回公海") and they have no owner. Returns how many customers left their groups or owner."""
    now = now or utcnow()
    total = 0
    for ids in batches(customer_ids):
        scope = active(ids)
        linked = exists().where(GroupLink.customer_id == Customer.id)
        leaving_filter = (Customer.id.in_(scope), linked | Customer.owner_id.isnot(None))
        leaving = select(Customer.id).where(*leaving_filter)
        count = write_logs(session, select(Customer.id, literal(None), Customer.owner_id, literal(None))
                           .where(*leaving_filter), kind="recycle", action="pool", now=now,
                           operator_id=operator_id, rule_name=rule_name, reason=reason)
        if not count:
            continue
        write_growth(session, leaving, kind="recycle", summary="退回公司公海", now=now, operator_id=operator_id)
        emit_events(session, RECYCLED_EVENT, select(
            Customer.id.label("customer_id"), Customer.owner_id.label("from_user_id"),
            literal("company_pool").label("destination")).where(*leaving_filter))
        release_links(session, GroupLink.customer_id.in_(scope), now=now, operator_id=operator_id,
                      rule_name=rule_name, reason=reason, delete_links=True)
        session.execute(update(Customer).where(Customer.id.in_(scope), Customer.owner_id.isnot(None))
                        .values(owner_id=None, updated_at=now).execution_options(synchronize_session=False))
        total += count
    return total
