"""客户批量转移: hand all (全部转移) or some (部分转移) of a salesperson's customers to another
one — typically when someone leaves. Their assignments in every group, their ownership and
their open follow-up tasks move to the new salesperson; each customer gets a 转移记录 row
(kind "transfer") and a 成长记录 line, so the move can be traced later.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable, Optional

from sqlalchemy import and_, exists, func, literal, or_, select, update
from sqlmodel import Session

from config.clock import utcnow
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups.journal import ASSIGNED_EVENT, emit_events, write_growth, write_logs
from crm.groups.links import OWNER_VERSION, batches, stamp_links
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from crm.people.models import User
from crm.sales.models import Task
from crm.scope import Viewer, customers as customer_scope

ALL_LABEL = "全部转移"
SOME_LABEL = "部分转移"


def _user(session: Session, user_id, field: str, label: str) -> User:
    user = session.get(User, user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
    if user is None:
        raise CrmError(f"请选择{label}", {field: f"请选择{label}"})
    return user


def _held_by(user_id: int):
    """Customers the user owns or holds an assignment of (active ones only)."""
    holds = exists().where(GroupLink.customer_id == Customer.id, GroupLink.assignee_id == user_id)
    return and_(Customer.status == "active", or_(Customer.owner_id == user_id, holds))


def _check_membership(session: Session, scope, from_user_id: int, to_user: User) -> None:
    """The new salesperson must belong to every group whose assignments move."""
    member = exists().where(GroupMember.group_id == GroupLink.group_id, GroupMember.user_id == to_user.id)
    missing = session.scalars(
        select(CustomerGroup.name).join(GroupLink, GroupLink.group_id == CustomerGroup.id)
        .where(GroupLink.assignee_id == from_user_id, GroupLink.customer_id.in_(scope), ~member)
        .distinct().order_by(CustomerGroup.name)).all()
    if missing:
        names = "、".join(f"「{n}」" for n in missing)
        raise CrmError(f"{to_user.display_name or to_user.username} 不是分组{names}的成员，请先把他加入这些分组",
                       {"to_user_id": "接收的业务员必须是相关分组的成员"})


def _log_reassignments(session: Session, scope, moving_links, source_id: int, target_id: int, *, now: datetime,
                       operator_id: Optional[int], label: str, reason: str) -> None:
    """分配日志 lines for a transfer: each group assignment that moves, and the ownership of a
    customer held without one (group left empty), so 分配日志 shows every change of hands."""
    common = dict(kind="allocation", action="transfer", now=now, operator_id=operator_id, rule_name=label,
                  reason=reason)
    write_logs(session, select(GroupLink.customer_id, GroupLink.group_id, GroupLink.assignee_id, literal(target_id))
               .where(moving_links, GroupLink.customer_id.in_(scope)), **common)
    linked = exists().where(GroupLink.customer_id == Customer.id, GroupLink.assignee_id == source_id)
    write_logs(session, select(Customer.id, literal(None), literal(source_id), literal(target_id))
               .where(Customer.id.in_(scope), ~linked), **common)


def transfer(session: Session, from_user_id: int, to_user_id: int, customer_ids: Optional[Iterable[int]] = None,
             reason: str = "", operator_id: Optional[int] = None, *, now: Optional[datetime] = None,
             viewer: Viewer) -> int:
    """Moves the customers (all of the user's when customer_ids is None) and returns how many;
    only customers `viewer` may see move (a 部门经理 hands over their own groups' customers)."""
    source = _user(session, from_user_id, "from_user_id", "转出的业务员")
    target = _user(session, to_user_id, "to_user_id", "接收的业务员")
    if source.id == target.id:
        raise CrmError("转出和接收的业务员不能是同一个人", {"to_user_id": "请选择另一位业务员"})
    if not target.enabled:
        raise CrmError("接收的业务员已停用", {"to_user_id": "接收的业务员已停用"})
    reason = (reason or "").strip()
    if not reason:  # 转移记录 must say why (a leaving salesperson, a re-organisation)
        raise CrmError("请填写转移原因", {"reason": "请填写转移原因"})
    if len(reason) > 500:
        raise CrmError("转移原因最多 500 个字", {"reason": "转移原因最多 500 个字"})
    if customer_ids is not None and not list(customer_ids):
        raise CrmError("请选择要转移的客户", {"customer_ids": "请选择要转移的客户"})
    now = now or utcnow()
    held = and_(_held_by(source.id), customer_scope(viewer))
    selections = [select(Customer.id).where(held)] if customer_ids is None else list(batches(customer_ids))
    for ids in selections:
        _check_membership(session, select(Customer.id).where(Customer.id.in_(ids), held), source.id, target)
    total = 0
    for ids in selections:
        scope = select(Customer.id).where(Customer.id.in_(ids), held)
        first_group = (select(func.min(GroupLink.group_id))
                       .where(GroupLink.customer_id == Customer.id, GroupLink.assignee_id == source.id)
                       .scalar_subquery())
        count = write_logs(session, select(Customer.id, first_group, literal(source.id), literal(target.id)).where(Customer.id.in_(scope)),
                           kind="transfer", action="transfer", now=now, operator_id=operator_id,
                           rule_name=ALL_LABEL if customer_ids is None else SOME_LABEL, reason=reason)
        if not count:
            continue
        write_growth(session, scope, kind="transfer", now=now, operator_id=operator_id,
                     summary=f"由 {source.display_name or source.username} 转移给 {target.display_name or target.username}"
                     + (f"：{reason}" if reason else ""))
        moving_links = and_(GroupLink.assignee_id == source.id, GroupLink.customer_id.in_(ids))
        _log_reassignments(session, scope, moving_links, source.id, target.id, now=now, operator_id=operator_id,
                           label=ALL_LABEL if customer_ids is None else SOME_LABEL, reason=reason)
        # Order matters: `scope` reads the old owner/assignee, so tasks and owners move before links.
        session.execute(update(Task).where(Task.owner_id == source.id, Task.customer_id.in_(scope),
                                           Task.status.in_(("todo", "doing")))
                        .values(owner_id=target.id).execution_options(synchronize_session=False))
        session.execute(update(Customer).where(Customer.id.in_(scope))
                        .values(owner_id=target.id, updated_at=now).execution_options(synchronize_session=False))
        stamp_links(session, OWNER_VERSION, moving_links, now)
        session.execute(update(GroupLink).where(moving_links)
                        .values(assignee_id=target.id, assigned_at=now, last_followed_at=None, progress="")
                        .execution_options(synchronize_session=False))
        emit_events(session, ASSIGNED_EVENT, select(
            Customer.id.label("customer_id"), Customer.owner_id.label("user_id"))
            .where(Customer.id.in_(ids), Customer.owner_id == target.id, Customer.updated_at == now))
        total += count
    return total
