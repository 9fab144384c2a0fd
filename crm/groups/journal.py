"""操作日志与成长记录的写入: every grouping, allocation, recycle and transfer leaves one CrmLog row
per customer and one line in the customer's 成长记录 — written with INSERT … SELECT from the same
selection the change used, so a run over 100k customers is a handful of statements.

Events for strategies (客户分配 / 客户回收) are emitted here too, at most one per customer and
none when one call touches more than EVENT_LIMIT customers (bulk runs stay set-based; the skip
is logged so nobody wonders where the events went).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Optional

from sqlalchemy import cast, func, insert, literal, select
from sqlalchemy.sql import Select
from sqlmodel import Session

from crm import events_out
from crm.customers.growth import record_growth_bulk
from crm.groups.models import CrmLog

log = logging.getLogger("ckb.crm.groups")

EVENT_LIMIT = 1000
ASSIGNED_EVENT = "crm.customer_assigned"
RECYCLED_EVENT = "crm.customer_recycled"

_LOG_COLUMNS = ("kind", "action", "customer_id", "group_id", "from_user_id", "to_user_id", "rule_name", "reason",
                "operator_id", "created_at")


def _const(value, column):
    """A typed literal so that dates and NULLs bind the way the column stores them."""
    return literal(value, type_=column.type)


def write_logs(session: Session, rows: Select, *, kind: str, action: str, now: datetime,
               operator_id: Optional[int] = None, rule_name: str = "", reason: str = "") -> int:
    """`rows` selects (customer_id, group_id, from_user_id, to_user_id) in that order."""
    sub = rows.subquery()
    c = CrmLog.__table__.c
    # Callers select literal NULLs for absent users; PostgreSQL types those as text unless cast.
    typed = [cast(sub.c[i], c[name].type) for i, name in enumerate(("customer_id", "group_id", "from_user_id", "to_user_id"))]
    source = select(
        _const(kind, c.kind), _const(action, c.action), *typed,
        _const(rule_name[:100], c.rule_name), _const((reason or "")[:500], c.reason),
        _const(operator_id, c.operator_id), _const(now, c.created_at))
    result = session.execute(insert(CrmLog.__table__).from_select(list(_LOG_COLUMNS), source))
    return result.rowcount or 0


def write_growth(session: Session, customer_ids: Select, *, kind: str, summary: str, now: datetime,
                 operator_id: Optional[int] = None) -> int:
    """One 成长记录 line per selected customer id (the customers engineer's set-based writer)."""
    return record_growth_bulk(session, customer_ids, kind, summary, operator_id, now)


def emit_events(session: Session, event_code: str, rows: Select) -> int:
    """One event per row of `rows` (dicts built from its labelled columns); skipped above the limit."""
    count = session.scalar(select(func.count()).select_from(rows.subquery())) or 0
    if count == 0:
        return 0
    if count > EVENT_LIMIT:
        log.info("skipped %s events for %d customers (limit %d per call)", event_code, count, EVENT_LIMIT)
        return 0
    payloads = [dict(r._mapping) for r in session.execute(rows)]
    seen: set = set()
    emitted = 0
    for data in payloads:
        if data.get("customer_id") in seen:
            continue  # at most one event per customer and call
        seen.add(data.get("customer_id"))
        events_out.emit(session, event_code, {k: v for k, v in data.items() if v is not None})
        emitted += 1
    return emitted
