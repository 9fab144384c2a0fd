"""分配规则: per group, ordered rules that hand the group pool's (小组公海) matching customers to
salespeople — the chosen ones, or every salesperson of the group when none is chosen — evenly
and best customers first (crm.groups.spread), each assignment with a 跟进任务 for the new owner.

CRUD functions take the caller's Session; `run_allocation` takes the Database and opens one write
transaction per rule (a 自定义SQL audience is read before it, in the read-only sandbox).
请求任务 (a salesperson asking for more) is crm.groups.requests.request_customers, re-exported here.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Iterable, Optional

from sqlalchemy import exists, func, select
from sqlmodel import Session

from config.clock import utcnow
from config.db import Database
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups import audiences, spread
from crm.groups.links import get_group
from crm.groups.models import AllocationRule, CustomerGroup, GroupLink
from crm.groups.handover import hand_over
from crm.groups.requests import request_customers
from crm.groups.rulebook import RuleBook, clean_name, switch
from crm.groups.service import group_members

__all__ = ["create_rule", "update_rule", "delete_rule", "set_enabled", "reorder_rules", "list_rules", "get_rule",
           "run_allocation", "allocate_with_rule", "request_customers"]


_book = RuleBook(AllocationRule, "分配规则")
get_rule, delete_rule, set_enabled = _book.get, _book.delete, _book.set_enabled


def clean_rule(session: Session, group_id: int, data: dict, tz: str | None = None) -> dict:
    group = get_group(session, group_id)
    errors: dict = {}
    name = clean_name(data, errors)
    try:
        salespeople = sorted({int(u) for u in (data.get("salespeople") or [])})
    except (TypeError, ValueError):
        salespeople, errors["salespeople"] = [], "业务员选择有误"
    outsiders = set(salespeople) - set(group_members(session, group.id))
    if outsiders:
        errors["salespeople"] = f"所选业务员不是分组「{group.name}」的成员"
    spec = audiences.check(session, data.get("rule"), tz, errors)
    if errors:
        raise CrmError("分配规则有误", errors)
    return {"name": name, "salespeople": salespeople, "rule": spec,
            "enabled": switch(data, "enabled"), "create_task": switch(data, "create_task")}


def create_rule(session: Session, group_id: int, data: dict, tz: str | None = None) -> AllocationRule:
    clean = clean_rule(session, group_id, data, tz)
    top = session.scalar(select(func.max(AllocationRule.position)).where(AllocationRule.group_id == group_id)) or 0
    rule = AllocationRule(group_id=group_id, position=top + 1, **clean)
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, rule_id: int, data: dict, tz: str | None = None) -> AllocationRule:
    rule = get_rule(session, rule_id)
    return _book.save(session, rule, clean_rule(session, rule.group_id, data, tz))


def reorder_rules(session: Session, group_id: int, order: Iterable[int]) -> None:
    _book.reorder(session, order, group_id)


def list_rules(session: Session, group_id: int) -> list[AllocationRule]:
    return list(session.scalars(select(AllocationRule).where(AllocationRule.group_id == group_id)
                                .order_by(AllocationRule.position, AllocationRule.id)))


def salespeople_of(session: Session, group_id: int, chosen: Optional[list[int]]) -> list[int]:
    """The rule's salespeople still in the group; none chosen = every salesperson of the group."""
    if chosen:
        return sorted(set(chosen) & set(group_members(session, group_id)))
    return group_members(session, group_id, role="sales")


def pooled(group_id: int):
    """Filters on Customer: active and waiting in the group's pool."""
    return (Customer.status == "active",
            exists().where(GroupLink.customer_id == Customer.id, GroupLink.group_id == group_id,
                           GroupLink.assignee_id.is_(None)))


def _candidates(session: Session, group_id: int, spec: dict, sql_ids, now, tz, only: Optional[list[int]]) -> list[int]:
    found: list[tuple[int, int]] = []
    for audience in audiences.filters(session, spec, sql_ids, now, tz):
        where = [audience, *pooled(group_id)]
        if only is not None:
            where.append(Customer.id.in_(only))
        found += session.execute(select(Customer.id, Customer.tag_score).where(*where)).all()
    return [cid for cid, _ in sorted(set(found), key=lambda row: (-(row[1] or 0), row[0]))]


def allocate_with_rule(session: Session, rule: AllocationRule, sql_ids, *, now: datetime, tz: str,
                       operator_id: Optional[int] = None, only: Optional[list[int]] = None,
                       exclude: Optional[dict[int, int]] = None) -> int:
    users = salespeople_of(session, rule.group_id, rule.salespeople)
    candidates = _candidates(session, rule.group_id, rule.rule or {}, sql_ids, now, tz, only)
    if not users or not candidates:
        return 0
    pairs = spread.plan(session, rule.group_id, candidates, users, exclude)
    rule.last_run_at = now
    session.add(rule)
    return hand_over(session, rule.group_id, pairs, now=now, tz=tz, operator_id=operator_id, rule_name=rule.name,
                     create_task=rule.create_task)


def run_allocation(db: Database, group_id: Optional[int] = None, *, now: Optional[datetime] = None,
                   tz: str | None = None, operator_id: Optional[int] = None,
                   rule_ids: Optional[list[int]] = None, only: Optional[list[int]] = None,
                   exclude: Optional[dict[int, int]] = None,
                   progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Runs the enabled allocation rules of one group (or of every group) in their order.
    `only`/`exclude` restrict a run to some customers and bar their previous salesperson
    (回收后重新分配). Returns {"rules": n, "assigned": m, "details": [...]}."""
    now = now or utcnow()
    with db.read() as session:
        stmt = (select(AllocationRule).join(CustomerGroup, CustomerGroup.id == AllocationRule.group_id)
                .order_by(CustomerGroup.position, CustomerGroup.id, AllocationRule.position, AllocationRule.id))
        if group_id is not None:
            stmt = stmt.where(AllocationRule.group_id == group_id)
        stmt = stmt.where(AllocationRule.id.in_(rule_ids)) if rule_ids else stmt.where(AllocationRule.enabled.is_(True))
        rules = list(session.scalars(stmt))
    details, assigned = [], 0
    for index, rule in enumerate(rules):
        sql_ids = audiences.resolve(db, rule.rule or {}, now, tz)
        with db.write() as session:
            count = allocate_with_rule(session, session.get(AllocationRule, rule.id), sql_ids, now=now, tz=tz,
                                       operator_id=operator_id, only=only, exclude=exclude)
        details.append({"group_id": rule.group_id, "rule": rule.name, "assigned": count})
        assigned += count
        if progress is not None:
            progress(index + 1, len(rules))
    return {"rules": len(rules), "assigned": assigned, "details": details}

