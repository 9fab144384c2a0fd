"""请求任务: a salesperson who has finished their follow-up tasks may ask for more customers from
the group pool — when the group allows it, up to N times a day (in the configured time zone),
M customers each time, best customers first. Each request is logged as 分配类型 "主动请求".
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Optional

from sqlalchemy import exists, func, select
from sqlmodel import Session

from config.clock import from_local, to_local
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups import spread
from crm.groups.handover import hand_over
from crm.groups.links import get_group, member_role
from crm.groups.models import CrmLog, GroupLink
from crm.sales.models import Task

REQUEST_ACTION = "request"
REQUEST_LABEL = "主动请求"
OPEN_TASK = ("todo", "doing")


def day_start(now: datetime, tz: str) -> datetime:
    """Midnight of today in the configured zone, as aware UTC."""
    return from_local(datetime.combine(to_local(now, tz).date(), time()), tz)


def requests_today(session: Session, group_id: int, user_id: int, now: datetime, tz: str) -> int:
    """Requests are told apart by their reason ("今日第 N 次请求"), so a request = one reason."""
    start = day_start(now, tz)
    return session.scalar(select(func.count(func.distinct(CrmLog.reason))).where(
        CrmLog.kind == "allocation", CrmLog.action == REQUEST_ACTION, CrmLog.group_id == group_id,
        CrmLog.to_user_id == user_id, CrmLog.created_at >= start, CrmLog.created_at < start + timedelta(days=1))) or 0


def open_follow_ups(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Task).where(
        Task.owner_id == user_id, Task.kind == "follow_up", Task.status.in_(OPEN_TASK))) or 0


def request_status(session: Session, group_id: int, user_id: int, now: datetime, tz: str | None = None) -> dict:
    """What the salesperson's page shows: may they request now, and if not, why."""
    group = get_group(session, group_id)
    used = requests_today(session, group.id, user_id, now, tz)
    reason = ""
    if not group.allow_requests:
        reason = f"分组「{group.name}」未开启请求客户"
    elif member_role(session, group.id, user_id) is None:
        reason = f"你不是分组「{group.name}」的成员"
    elif (pending := open_follow_ups(session, user_id)) > 0:
        reason = f"请先完成手上的 {pending} 个跟进任务"
    elif used >= group.requests_per_day:
        reason = f"今天的请求次数已用完（每天 {group.requests_per_day} 次）"
    return {"group": group, "allowed": not reason, "reason": reason, "used": used,
            "per_day": group.requests_per_day, "per_request": group.customers_per_request}


def request_customers(session: Session, group_id: int, user_id: int, now: datetime, tz: str | None = None) -> int:
    """Assigns up to customers_per_request pooled customers to the user; returns how many."""
    status = request_status(session, group_id, user_id, now, tz)
    if not status["allowed"]:
        raise CrmError(status["reason"], {"group_id": status["reason"]})
    group = status["group"]
    pool = exists().where(GroupLink.customer_id == Customer.id, GroupLink.group_id == group.id,
                          GroupLink.assignee_id.is_(None))
    ids = spread.best_first(session, (Customer.status == "active", pool), limit=group.customers_per_request)
    if not ids:
        raise CrmError("小组公海暂时没有可分配的客户", {"group_id": "小组公海暂时没有客户"})
    return hand_over(session, group.id, [(cid, user_id) for cid in ids], now=now, tz=tz, operator_id=user_id,
                     rule_name=REQUEST_LABEL, create_task=True, action=REQUEST_ACTION,
                     reason=f"今日第 {status['used'] + 1} 次请求")
