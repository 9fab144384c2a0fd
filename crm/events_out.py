"""CRM changes become events (客户创建, 打标签, 分配, 回收, 跟进, 任务逾期) that strategies can use.

They enter the ledger through the one ingestion door (events.ingestion.store_trusted, source
"crm" or "lead"), inside the caller's transaction: the same validation, refusal texts and
dedupe key as any ingested event, so 事件历史 shows them and the dispatcher matches them; an
event whose definition is not registered is stored as refused with that reason, never dropped.
"""
from __future__ import annotations

from typing import Optional

from sqlmodel import Session

from config.clock import utcnow
from events.ingestion import IngestResult, store_trusted

SHARED_DEFINITIONS = "ckb_event_definitions"  # session.info key: a SessionDefinitions for every emit


def emit(session: Session, event_code: str, data: dict, tz: str | None = None, *, source: str = "crm",
         event_id: Optional[str] = None, definitions=None, now=None) -> IngestResult:
    """Stores the event in the caller's transaction. `event_id` makes it idempotent (the same id
    from the same source is stored once); `definitions` is a lookup reused across a batch."""
    event = {"event": event_code, "data": data, **({"id": event_id} if event_id is not None else {})}
    if definitions is None:  # a batch of leads (crm.leads.batch) shares one lookup for its events
        definitions = session.info.get(SHARED_DEFINITIONS)
    return store_trusted(session, source, source, [event], now or utcnow(), tz, definitions)
