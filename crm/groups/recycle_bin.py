"""回收站客户: customers without follow-up value are parked here. They leave every group (their
relations are released and logged as "delete"), have no owner, and take no part in grouping or
allocation until someone returns them to the company pool (公海).
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import literal, select, update
from sqlmodel import Session

from config.clock import utcnow
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups.journal import RECYCLED_EVENT, emit_events, write_growth, write_logs
from crm.groups.links import CustomerIds, active, batches, release_links
from crm.groups.models import GroupLink


def move_to_recycle_bin(session: Session, customer_ids: CustomerIds, operator_id: Optional[int], reason: str,
                        *, now: Optional[datetime] = None) -> int:
    """放入回收站 (回收历史 "回回收"). Returns how many active customers were moved."""
    reason = (reason or "").strip()
    if len(reason) > 500:
        raise CrmError("回收原因最多 500 个字", {"reason": "回收原因最多 500 个字"})
    now = now or utcnow()
    total = 0
    for ids in batches(customer_ids):
        scope = active(ids)
        count = write_logs(session, select(Customer.id, literal(None), Customer.owner_id, literal(None))
                           .where(Customer.id.in_(scope)), kind="recycle", action="recycle", now=now,
                           operator_id=operator_id, reason=reason)
        if not count:
            continue
        write_growth(session, scope, kind="recycle", summary="放入回收站" + (f"：{reason}" if reason else ""),
                     now=now, operator_id=operator_id)
        emit_events(session, RECYCLED_EVENT, select(
            Customer.id.label("customer_id"), Customer.owner_id.label("from_user_id"),
            literal("recycle_bin").label("destination")).where(Customer.id.in_(scope)))
        release_links(session, GroupLink.customer_id.in_(scope), now=now, operator_id=operator_id, reason=reason,
                      delete_links=True)
        # The status change comes last: `scope` selects active customers.
        session.execute(update(Customer).where(Customer.id.in_(scope))
                        .values(status="recycled", owner_id=None, updated_at=now)
                        .execution_options(synchronize_session=False))
        total += count
    return total


def restore_from_recycle_bin(session: Session, customer_ids: CustomerIds, operator_id: Optional[int], *,
                             now: Optional[datetime] = None) -> int:
    """退回公海: recycled customers become active again, in the company pool (no group, no owner)."""
    now = now or utcnow()
    total = 0
    for ids in batches(customer_ids):
        recycled = (Customer.id.in_(ids), Customer.status == "recycled")
        count = write_logs(session, select(Customer.id, literal(None), literal(None), literal(None)).where(*recycled),
                           kind="recycle", action="restore", now=now, operator_id=operator_id)
        if not count:
            continue
        write_growth(session, select(Customer.id).where(*recycled), kind="recycle", summary="从回收站退回公海",
                     now=now, operator_id=operator_id)
        session.execute(update(Customer).where(*recycled).values(status="active", owner_id=None, updated_at=now)
                        .execution_options(synchronize_session=False))
        total += count
    return total
