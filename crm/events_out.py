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


def record_values(definition: EventDefinition | None, event_code: str, data: dict, tz: str, source: str,
                  now) -> dict:
    """The EventRecord columns for one emitted event: accepted with typed data, or refused with
    the reason (unregistered, disabled, invalid) — never silently dropped."""
    values = {"source": source, "event_code": event_code, "data": data, "received_at": now, "occurred_at": now,
              "status": "accepted", "dispatch_status": "pending", "outcome": "", "reject_reason": "", "errors": [],
              "outcome_note": "", "event_definition_id": definition.id if definition is not None else None}
    if definition is None or not definition.enabled:
        values.update(status="rejected", dispatch_status="skipped", outcome="rejected",
                      reject_reason="event_unknown" if definition is None else "event_disabled",
                      outcome_note="事件未注册（请在事件注册中心导入内置事件）" if definition is None else "事件已禁用")
        return values
    clean, errors = normalise(definition.fields or [], data, tz)
    if errors:
        values.update(status="rejected", dispatch_status="skipped", outcome="rejected", reject_reason="invalid",
                      errors=errors)
    else:
        values["data"] = clean
    return values


def emit(session: Session, event_code: str, data: dict, tz: str | None = None, *, source: str = "crm",
         definition: EventDefinition | None = None) -> EventRecord:
    """Stores the event in the caller's transaction."""
    if definition is None:
        definition = session.exec(select(EventDefinition).where(EventDefinition.code == event_code)).first()
    record = EventRecord(**record_values(definition, event_code, data, tz, source, utcnow()))
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
