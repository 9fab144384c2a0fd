"""回收规则: when a salesperson has not followed a customer for N days (since the assignment or the
last follow-up), or has followed it for N days without progress (the latest follow-up status is
still 跟进中/无效 — not 有意向 or 成交), the customer goes back to the group pool (回收历史 "回组",
automatic), and — when the rule says so — is handed to another salesperson of the group, never the
one who just lost it: first by the group's allocation rules, then evenly over the group's
salespeople for customers no rule matches.

CRUD takes the caller's Session; `run_recycle` takes the Database (one transaction per rule,
then the reallocation in its own).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import and_, func, or_, select
from sqlmodel import Session

from config.clock import utcnow
from config.db import Database
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups import spread
from crm.groups.allocation import pooled, run_allocation
from crm.groups.handover import hand_over
from crm.groups.links import get_group
from crm.groups.membership import release_to_group_pool
from crm.groups.models import CustomerGroup, GroupLink, RecycleRule
from crm.groups.rulebook import RuleBook, clean_name, switch
from crm.groups.service import group_members

ADVANCED = ("intent", "deal")  # follow-up statuses that count as progress
MAX_DAYS = 3650
REASSIGN_LABEL = "回收后重新分配"


_book = RuleBook(RecycleRule, "回收规则")
get_rule, delete_rule, set_enabled = _book.get, _book.delete, _book.set_enabled


def _days(raw, field: str, label: str, errors: dict) -> Optional[int]:
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        errors[field] = f"{label}应为整数"
        return None
    if not 1 <= value <= MAX_DAYS:
        errors[field] = f"{label}应在 1–{MAX_DAYS} 天之间"
    return value


def clean_rule(session: Session, group_id: int, data: dict) -> dict:
    get_group(session, group_id)
    errors: dict = {}
    name = clean_name(data, errors)
    follow = _days(data.get("days_without_follow"), "days_without_follow", "未跟进天数", errors)
    progress = _days(data.get("days_without_progress"), "days_without_progress", "跟进无进展天数", errors)
    if follow is None and progress is None and not errors:
        errors["days_without_follow"] = "请至少填写「未跟进天数」或「跟进无进展天数」"
    if errors:
        raise CrmError("回收规则有误", errors)
    return {"name": name, "days_without_follow": follow, "days_without_progress": progress,
            "enabled": switch(data, "enabled"), "reassign_to_other": switch(data, "reassign_to_other")}


def create_rule(session: Session, group_id: int, data: dict) -> RecycleRule:
    rule = RecycleRule(group_id=group_id, **clean_rule(session, group_id, data))
    session.add(rule)
    session.flush()
    return rule


def update_rule(session: Session, rule_id: int, data: dict) -> RecycleRule:
    rule = get_rule(session, rule_id)
    return _book.save(session, rule, clean_rule(session, rule.group_id, data))


def list_rules(session: Session, group_id: int) -> list[RecycleRule]:
    return list(session.scalars(select(RecycleRule).where(RecycleRule.group_id == group_id).order_by(RecycleRule.id)))


def stale_filter(rule: RecycleRule, now: datetime):
    """Assigned links of the rule's group that the rule takes back."""
    conditions = []
    if rule.days_without_follow:
        cutoff = now - timedelta(days=rule.days_without_follow)
        conditions.append(func.coalesce(GroupLink.last_followed_at, GroupLink.assigned_at) < cutoff)
    if rule.days_without_progress:
        cutoff = now - timedelta(days=rule.days_without_progress)
        conditions.append(and_(GroupLink.last_followed_at.isnot(None), GroupLink.assigned_at < cutoff,
                               GroupLink.progress.notin_(ADVANCED)))
    return and_(GroupLink.group_id == rule.group_id, GroupLink.assignee_id.isnot(None), or_(*conditions))


def recycle_with_rule(session: Session, rule: RecycleRule, now: datetime) -> dict[int, int]:
    """Takes the stale customers back to the group pool; returns {customer_id: previous salesperson}."""
    previous = dict(session.execute(select(GroupLink.customer_id, GroupLink.assignee_id).where(
        stale_filter(rule, now), GroupLink.customer_id.in_(select(Customer.id).where(Customer.status == "active"))
    )).all())
    if previous:
        release_to_group_pool(session, list(previous), rule.group_id, None, now=now, rule_name=rule.name,
                              automatic=True)
    rule.last_run_at = now
    session.add(rule)
    return previous


def _reassign_rest(session: Session, group_id: int, previous: dict[int, int], now: datetime, tz: str) -> int:
    """Customers no allocation rule took: evenly over the group's salespeople, bar the previous one."""
    rest = spread.best_first(session, (Customer.id.in_(list(previous)), *pooled(group_id)))
    pairs = spread.plan(session, group_id, rest, group_members(session, group_id, role="sales"), previous, mgm=False)
    return hand_over(session, group_id, pairs, now=now, tz=tz, operator_id=None, rule_name=REASSIGN_LABEL,
                     create_task=True)


def run_recycle(db: Database, group_id: Optional[int] = None, *, now: Optional[datetime] = None,
                tz: str | None = None) -> dict:
    """Runs the enabled recycle rules (of one group or all): {"recycled": n, "reassigned": m, "details"}."""
    now = now or utcnow()
    with db.read() as session:
        stmt = (select(RecycleRule).join(CustomerGroup, CustomerGroup.id == RecycleRule.group_id)
                .where(RecycleRule.enabled.is_(True)).order_by(CustomerGroup.position, RecycleRule.id))
        if group_id is not None:
            stmt = stmt.where(RecycleRule.group_id == group_id)
        rules = list(session.scalars(stmt))
    details, recycled, reassigned = [], 0, 0
    for rule in rules:
        with db.write() as session:
            previous = recycle_with_rule(session, session.get(RecycleRule, rule.id), now)
        moved = 0
        if previous and rule.reassign_to_other:
            moved = run_allocation(db, rule.group_id, now=now, tz=tz, only=list(previous), exclude=previous)["assigned"]
            with db.write() as session:
                moved += _reassign_rest(session, rule.group_id, previous, now, tz)
        details.append({"group_id": rule.group_id, "rule": rule.name, "recycled": len(previous), "reassigned": moved})
        recycled += len(previous)
        reassigned += moved
    return {"rules": len(rules), "recycled": recycled, "reassigned": reassigned, "details": details}
