"""客户分组规则: which customers go into which group. Each rule has a source (公海客户 — customers in
no group; one group; or all customers), an audience (自定义条件 or 自定义SQL), a target (a group,
or back to the company pool) and whether to break the customers' old group relations. Enabled
rules run in their order, every night and on demand; every moved customer is logged under the
rule's name in 分组日志.

CRUD functions take the caller's Session; `run_group_rules` takes the Database and opens one
write transaction per rule (a SQL audience is read before it, in the read-only sandbox).
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
from crm.groups import audiences
from crm.groups.membership import add_to_group, release_to_company_pool
from crm.groups.models import CustomerGroup, GroupLink, GroupRule
from crm.groups.rulebook import RuleBook, clean_name, switch

SOURCES = {"company_pool": "公海客户", "group": "指定分组", "all": "全部客户"}


_book = RuleBook(GroupRule, "分组规则")
get_rule, delete_rule, set_enabled = _book.get, _book.delete, _book.set_enabled


def _group_id(session: Session, raw, field: str, label: str, errors: dict) -> Optional[int]:
    if raw in (None, "", "pool"):
        return None
    try:
        group_id = int(raw)
    except (TypeError, ValueError):
        errors[field] = f"{label}无效"
        return None
    if session.get(CustomerGroup, group_id) is None:
        errors[field] = f"{label}不存在"
    return group_id


def clean_rule(session: Session, data: dict, tz: str | None = None) -> dict:
    errors: dict = {}
    name = clean_name(data, errors)
    source = data.get("source") or "company_pool"
    if source not in SOURCES:
        errors["source"] = "来源分组无效"
    source_group_id = _group_id(session, data.get("source_group_id"), "source_group_id", "来源分组", errors)
    if source == "group" and source_group_id is None and "source_group_id" not in errors:
        errors["source_group_id"] = "请选择来源分组"
    target_group_id = _group_id(session, data.get("target_group_id"), "target_group_id", "目标分组", errors)
    if source == "group" and target_group_id is not None and target_group_id == source_group_id:
        errors["target_group_id"] = "目标分组不能与来源分组相同"
    if source == "company_pool" and target_group_id is None and "target_group_id" not in errors:
        errors["target_group_id"] = "来源是公海客户时，请选择一个目标分组"
    spec = audiences.check(session, data.get("rule"), tz, errors)
    if errors:
        raise CrmError("分组规则有误", errors)
    return {"name": name, "source": source, "source_group_id": source_group_id if source == "group" else None,
            "target_group_id": target_group_id, "break_old": switch(data, "break_old", False),
            "enabled": switch(data, "enabled"), "rule": spec}


def create_rule(session: Session, data: dict, tz: str | None = None) -> GroupRule:
    clean = clean_rule(session, data, tz)
    top = session.scalar(select(func.max(GroupRule.position))) or 0
    rule = GroupRule(**clean, position=top + 1)
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, rule_id: int, data: dict, tz: str | None = None) -> GroupRule:
    return _book.save(session, get_rule(session, rule_id), clean_rule(session, data, tz))


def reorder_rules(session: Session, order: Iterable[int]) -> None:
    _book.reorder(session, order)


def list_rules(session: Session) -> list[GroupRule]:
    return list(session.scalars(select(GroupRule).order_by(GroupRule.position, GroupRule.id)))


def _source_filter(rule: GroupRule):
    if rule.source == "company_pool":
        return ~exists().where(GroupLink.customer_id == Customer.id)
    if rule.source == "group":
        return exists().where(GroupLink.customer_id == Customer.id, GroupLink.group_id == rule.source_group_id)
    return Customer.status == "active"


def apply_rule(session: Session, rule: GroupRule, sql_ids: Optional[list[int]], now: datetime, tz: str,
               operator_id: Optional[int] = None) -> int:
    """Moves the rule's matching source customers; returns how many were moved."""
    moved = 0
    for audience in audiences.filters(session, rule.rule or {}, sql_ids, now, tz):
        # Materialised first: breaking old relations changes which customers the source selects.
        ids = list(session.scalars(select(Customer.id).where(audience, Customer.status == "active",
                                                             _source_filter(rule)).order_by(Customer.id)))
        if not ids:
            continue
        if rule.target_group_id is None:
            moved += release_to_company_pool(session, ids, operator_id, now=now, rule_name=rule.name)
        else:
            moved += add_to_group(session, ids, rule.target_group_id, operator_id, break_old=rule.break_old,
                                  now=now, rule_name=rule.name)
    rule.last_run_at = now
    session.add(rule)
    return moved


def run_group_rules(db: Database, *, now: Optional[datetime] = None, tz: str | None = None,
                    rule_ids: Optional[list[int]] = None, operator_id: Optional[int] = None,
                    progress: Optional[Callable[[int, int], None]] = None) -> dict:
    """Runs the enabled rules (or the chosen ones) in order: {"rules": n, "moved": m, "details": [...]}."""
    now = now or utcnow()
    with db.read() as session:
        stmt = select(GroupRule).order_by(GroupRule.position, GroupRule.id)
        stmt = stmt.where(GroupRule.id.in_(rule_ids)) if rule_ids else stmt.where(GroupRule.enabled.is_(True))
        rules = list(session.scalars(stmt))
    details, moved = [], 0
    for index, rule in enumerate(rules):
        sql_ids = audiences.resolve(db, rule.rule or {}, now, tz)
        with db.write() as session:
            count = apply_rule(session, session.get(GroupRule, rule.id), sql_ids, now, tz, operator_id)
        details.append({"rule": rule.name, "moved": count})
        moved += count
        if progress is not None:
            progress(index + 1, len(rules))
    return {"rules": len(rules), "moved": moved, "details": details}
