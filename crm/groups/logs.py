"""操作日志: 分组日志 (who joined or left which group, by hand or by which rule), 分配日志 (every
assignment — 自动分配 / 手动分配 / 主动请求 — and "delete" when a relation was released), 回收历史
(回组 / 回公海 / 回回收站 / 退回公海, automatic or not) and 转移记录 (one line per transfer with its
customer count). Filterable by customer, user, group and period; the period defaults to today in
the configured time zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from config.clock import to_local
from crm.customers.models import Customer
from crm.groups.models import CrmLog, CustomerGroup
from crm.groups.requests import day_start
from crm.people.models import User
from crm.scope import SYSTEM, Viewer, customers as customer_scope

KINDS = {"group": "分组日志", "allocation": "分配日志", "recycle": "回收历史", "transfer": "转移记录"}
ACTIONS = {
    "group": {"add": "加入分组", "delete": "移出分组"},
    "allocation": {"assign": "分配", "request": "主动请求", "transfer": "批量转移", "delete": "delete"},
    "recycle": {"release": "回组", "pool": "回公海", "recycle": "回回收站", "restore": "退回公海"},
    "transfer": {"transfer": "转移"},
}


@dataclass
class LogFilter:
    kind: str = "group"
    action: str = ""
    customer: str = ""  # name contains, or an exact id
    user_id: Optional[int] = None  # from or to this salesperson
    operator_id: Optional[int] = None
    group_id: Optional[int] = None
    since: Optional[datetime] = None  # aware UTC; both None = today
    until: Optional[datetime] = None
    page: int = 1
    per_page: int = 20
    viewer: Viewer = SYSTEM  # lines about customers this person may not see are left out (crm.scope)


def period(f: LogFilter, now: datetime, tz: str) -> tuple[datetime, datetime]:
    if f.since is None and f.until is None:
        start = day_start(now, tz)
        return start, start + timedelta(days=1)
    return (f.since or datetime(1970, 1, 1, tzinfo=now.tzinfo)), (f.until or now + timedelta(days=1))


def _where(f: LogFilter, now: datetime, tz: str) -> list:
    start, end = period(f, now, tz)
    kind = f.kind if f.kind in KINDS else "group"
    where = [CrmLog.kind == kind, CrmLog.created_at >= start, CrmLog.created_at < end]
    if not f.viewer.system:
        where.append(CrmLog.customer_id.in_(select(Customer.id).where(customer_scope(f.viewer))))
    if f.action:
        where.append(CrmLog.action == f.action)
    if f.user_id:
        where.append(or_(CrmLog.from_user_id == f.user_id, CrmLog.to_user_id == f.user_id))
    if f.operator_id:
        where.append(CrmLog.operator_id == f.operator_id)
    if f.group_id:
        where.append(CrmLog.group_id == f.group_id)
    text = (f.customer or "").strip()
    if text:
        named = select(Customer.id).where(Customer.name.contains(text))
        where.append(or_(CrmLog.customer_id.in_(named), CrmLog.customer_id == int(text)) if text.isdigit()
                     else CrmLog.customer_id.in_(named))
    return where


def _type_label(row: CrmLog) -> str:
    if row.kind == "allocation" and row.action == "assign":
        return "自动分配" if row.rule_name else "手动分配"  # a rule ran (nightly or "立即执行")
    if row.kind == "group":
        return "自动" if row.rule_name else "手动"
    return ACTIONS.get(row.kind, {}).get(row.action, row.action)


def list_logs(session: Session, f: LogFilter, now: datetime, tz: str) -> tuple[list[dict], int]:
    """One page of log lines (newest first) with names resolved, and the total."""
    where = _where(f, now, tz)
    total = session.scalar(select(func.count()).select_from(CrmLog).where(*where)) or 0
    src, dst, op = aliased(User), aliased(User), aliased(User)
    rows = session.execute(
        select(CrmLog, Customer.name, CustomerGroup.name, src.display_name, dst.display_name, op.display_name)
        .outerjoin(Customer, Customer.id == CrmLog.customer_id)
        .outerjoin(CustomerGroup, CustomerGroup.id == CrmLog.group_id)
        .outerjoin(src, src.id == CrmLog.from_user_id).outerjoin(dst, dst.id == CrmLog.to_user_id)
        .outerjoin(op, op.id == CrmLog.operator_id)
        .where(*where).order_by(CrmLog.created_at.desc(), CrmLog.id.desc())
        .offset((max(f.page, 1) - 1) * f.per_page).limit(f.per_page)).all()
    out = []
    for log, customer, group, from_name, to_name, operator in rows:
        released = log.kind == "allocation" and log.action == "delete"
        out.append({"log": log, "customer": customer or f"#{log.customer_id}", "group": group or "",
                    "from_user": from_name or "", "to_user": to_name or "",
                    # 分配日志: a released relation shows "delete" as its operator, as in 晓售.
                    "operator": "delete" if released else (operator or ("系统" if log.operator_id is None else "")),
                    "type": _type_label(log), "action": ACTIONS.get(log.kind, {}).get(log.action, log.action),
                    "automatic": log.operator_id is None, "at": to_local(log.created_at, tz)})
    return out, total


def transfer_records(session: Session, f: LogFilter, now: datetime, tz: str) -> tuple[list[dict], int]:
    """转移记录: one line per transfer (same time, people and reason) with its customer count."""
    f = LogFilter(**{**f.__dict__, "kind": "transfer"})
    where = _where(f, now, tz)
    key = (CrmLog.created_at, CrmLog.from_user_id, CrmLog.to_user_id, CrmLog.operator_id, CrmLog.rule_name,
           CrmLog.reason)
    grouped = select(*key, func.count(func.distinct(CrmLog.customer_id)).label("customers")).where(*where).group_by(*key)
    total = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    rows = session.execute(grouped.order_by(CrmLog.created_at.desc())
                           .offset((max(f.page, 1) - 1) * f.per_page).limit(f.per_page)).all()
    ids = {u for r in rows for u in (r.from_user_id, r.to_user_id, r.operator_id) if u}
    names = dict(session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    return [{"at": to_local(r.created_at, tz), "from_user": names.get(r.from_user_id, ""),
             "to_user": names.get(r.to_user_id, ""), "operator": names.get(r.operator_id, "系统"),
             "customers": r.customers, "type": r.rule_name, "reason": r.reason} for r in rows], total
