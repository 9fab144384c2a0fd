"""通话记录 for people: who may see which calls and recordings. A seat (staff who calls) sees their own
calls; leads.view_all sees everyone's (managers). Numbers are masked unless the viewer holds pii.view.
Every play or download of a recording is logged (RecordingAccess)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import func
from sqlmodel import Session, col, select

from config.clock import as_utc
from crm.leads.call_models import CallRecord, CallTarget, CallTask, DoNotCall, RecordingAccess
from crm.leads.errors import LeadNotFound
from crm.scope import Viewer

PAGE = 50


def sees_all(viewer: Viewer) -> bool:
    return "leads.view_all" in viewer.permissions


def list_records(session: Session, viewer: Viewer, *, task_id: Optional[int] = None, result: str = "",
                 page: int = 1) -> tuple[list[CallRecord], int]:
    query = select(CallRecord)
    if not sees_all(viewer):
        query = query.where(CallRecord.seat_user_id == viewer.user_id)
    if task_id:
        query = query.where(CallRecord.task_id == task_id)
    if result:
        query = query.where(CallRecord.result == result)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(CallRecord.id).desc()).offset((page - 1) * PAGE).limit(PAGE)).all()
    return list(rows), total


def get_record(session: Session, viewer: Viewer, record_id: int) -> CallRecord:
    """Another seat's call is 404 like an unknown id (its existence is not revealed)."""
    record = session.get(CallRecord, record_id)
    if record is None or not (sees_all(viewer) or record.seat_user_id == viewer.user_id):
        raise LeadNotFound(f"通话记录 {record_id} 不存在")
    return record


def log_access(session: Session, record_id: int, user_id: int, action: str, ip: str, now: datetime) -> None:
    session.add(RecordingAccess(record_id=record_id, user_id=user_id, action=action, ip=ip[:64], at=as_utc(now)))


def task_summary(session: Session, task_ids: list[int]) -> dict[int, dict[str, int]]:
    """{task id: {target status: count, "calls": n}} for the task list."""
    out: dict[int, dict[str, int]] = {t: {} for t in task_ids}
    if not task_ids:
        return out
    for task_id, status, n in session.exec(select(CallTarget.task_id, CallTarget.status, func.count())
                                           .where(col(CallTarget.task_id).in_(task_ids))
                                           .group_by(CallTarget.task_id, CallTarget.status)).all():
        out[task_id][status] = n
    for task_id, n in session.exec(select(CallRecord.task_id, func.count()).where(col(CallRecord.task_id).in_(task_ids))
                                   .group_by(CallRecord.task_id)).all():
        out[task_id]["calls"] = n
    return out


def list_tasks(session: Session) -> list[CallTask]:
    return list(session.exec(select(CallTask).order_by(col(CallTask.id).desc())).all())


def task_targets(session: Session, task_id: int, limit: int = 500) -> list[CallTarget]:
    return list(session.exec(select(CallTarget).where(CallTarget.task_id == task_id).order_by(CallTarget.id)
                             .limit(limit)).all())


def do_not_call_list(session: Session) -> list[DoNotCall]:
    return list(session.exec(select(DoNotCall).order_by(col(DoNotCall.id).desc())).all())


def remove_do_not_call(session: Session, row_id: int) -> None:
    row = session.get(DoNotCall, row_id)
    if row is None:
        raise LeadNotFound(f"禁呼号码 {row_id} 不存在")
    session.delete(row)
