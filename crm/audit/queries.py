"""Filtered, paged reads of the three logs for the console pages and their exports."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from sqlalchemy import func, or_
from sqlmodel import Session, select

from config.pii import mask_text
from crm.audit.models import ErrorLog, LoginLog, OperationLog

EXPORT_LIMIT = 50_000


@dataclass
class LogFilter:
    since: Optional[datetime] = None  # aware UTC, inclusive
    until: Optional[datetime] = None  # aware UTC, exclusive
    user_id: Optional[int] = None
    username: str = ""
    result: str = ""  # 登录日志
    ip: str = ""
    table_name: str = ""  # 操作日志: object type
    object_id: str = ""
    endpoint: str = ""
    action: str = ""
    request_id: str = ""
    exc_type: str = ""  # 异常日志
    reference: str = ""


def _period(stmt, column, f: LogFilter):
    if f.since is not None:
        stmt = stmt.where(column >= f.since)
    if f.until is not None:
        stmt = stmt.where(column < f.until)
    return stmt


def _contains(column, text: str):
    # Stored values are masked, so the search text is masked the same way before comparing.
    return column.contains(mask_text(text.strip()), autoescape=True)


def login_query(f: LogFilter):
    stmt = _period(select(LoginLog), LoginLog.created_at, f)
    if f.user_id is not None:
        stmt = stmt.where(LoginLog.user_id == f.user_id)
    if f.username.strip():
        stmt = stmt.where(_contains(LoginLog.username, f.username))
    if f.result:
        stmt = stmt.where(LoginLog.result == f.result)
    if f.ip.strip():
        stmt = stmt.where(LoginLog.ip.startswith(f.ip.strip(), autoescape=True))
    return stmt.order_by(LoginLog.id.desc())


def operation_query(f: LogFilter):
    stmt = _period(select(OperationLog), OperationLog.created_at, f)
    if f.user_id is not None:
        stmt = stmt.where(OperationLog.user_id == f.user_id)
    if f.table_name.strip():
        stmt = stmt.where(OperationLog.table_name == f.table_name.strip())
    if f.object_id.strip():
        stmt = stmt.where(OperationLog.object_id == f.object_id.strip())
    if f.endpoint.strip():
        text = f.endpoint.strip()
        stmt = stmt.where(or_(OperationLog.endpoint.contains(text, autoescape=True),
                              OperationLog.path.contains(text, autoescape=True)))
    if f.action:
        stmt = stmt.where(OperationLog.action == f.action)
    if f.request_id.strip():
        stmt = stmt.where(OperationLog.request_id == f.request_id.strip())
    if f.ip.strip():
        stmt = stmt.where(OperationLog.ip.startswith(f.ip.strip(), autoescape=True))
    return stmt.order_by(OperationLog.id.desc())


def error_query(f: LogFilter):
    stmt = _period(select(ErrorLog), ErrorLog.created_at, f)
    if f.user_id is not None:
        stmt = stmt.where(ErrorLog.user_id == f.user_id)
    if f.reference.strip():
        stmt = stmt.where(ErrorLog.reference == f.reference.strip().upper())
    if f.exc_type.strip():
        stmt = stmt.where(ErrorLog.exc_type.contains(f.exc_type.strip(), autoescape=True))
    if f.endpoint.strip():
        text = f.endpoint.strip()
        stmt = stmt.where(or_(ErrorLog.endpoint.contains(text, autoescape=True),
                              ErrorLog.path.contains(text, autoescape=True)))
    return stmt.order_by(ErrorLog.id.desc())


def page(session: Session, stmt, page_no: int, per_page: int) -> tuple[list, int]:
    total = session.exec(select(func.count()).select_from(stmt.order_by(None).subquery())).one()
    rows = session.exec(stmt.offset((page_no - 1) * per_page).limit(per_page)).all()
    return list(rows), total


def everything(session: Session, stmt) -> list:
    """For an export: the filtered rows, bounded so one click cannot exhaust memory."""
    return list(session.exec(stmt.limit(EXPORT_LIMIT)).all())


def object_tables(session: Session) -> list[str]:
    """Table names seen in the operation log (the 对象类型 filter)."""
    return list(session.exec(select(OperationLog.table_name).where(OperationLog.table_name != "")
                             .distinct().order_by(OperationLog.table_name)).all())
