"""CRM changes become events (客户创建, 打标签, 分配, 回收, 跟进, 任务逾期) that strategies can use.

They enter the same ledger as ingested events (source "crm"), so 事件历史 shows them and the
dispatcher matches them; an event whose definition is not registered is stored as refused
with that reason, never silently dropped.
"""
from __future__ import annotations

from sqlmodel import Session, select

from config.clock import utcnow
from events.field_types import normalise
from events.models import EventDefinition, EventRecord


def emit(session: Session, event_code: str, data: dict, tz: str = "Asia/Shanghai", *, source: str = "crm",
         definition: EventDefinition | None = None) -> EventRecord:
    """Stores the event in the caller's transaction; `definition` saves the lookup in bulk paths."""
    if definition is None:
        definition = session.exec(select(EventDefinition).where(EventDefinition.code == event_code)).first()
    now = utcnow()
    record = EventRecord(source=source, event_code=event_code, data=data, received_at=now, occurred_at=now)
    if definition is None or not definition.enabled:
        record.status, record.dispatch_status, record.outcome = "rejected", "skipped", "rejected"
        record.reject_reason = "event_unknown" if definition is None else "event_disabled"
        record.outcome_note = "事件未注册（请在事件注册中心导入内置事件）" if definition is None else "事件已禁用"
    else:
        clean, errors = normalise(definition.fields or [], data, tz)
        record.event_definition_id = definition.id
        if errors:
            record.status, record.dispatch_status, record.outcome = "rejected", "skipped", "rejected"
            record.reject_reason, record.errors = "invalid", errors
        else:
            record.data = clean
    session.add(record)
    session.flush()
    return record


def emit_many(session: Session, event_code: str, rows: list[dict], limit: int = 1000) -> int:
    """One event per row; above `limit` rows nothing is emitted (bulk jobs stay set-based)."""
    if len(rows) > limit:
        return 0
    for data in rows:
        emit(session, event_code, data)
    return len(rows)
