"""试运行与回测: "test this strategy" with a sample event (no side effects), and a backtest over
the stored events of a period ("how many would have matched?")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from config.clock import format_local, local_iso
from engine.planner import plan_steps
from events.field_types import normalise, typed
from events.models import EventDefinition, EventRecord
from events.placeholders import PlaceholderError
from handlers.base import ProcessorContext
from handlers.errors import ProcessorError, UnknownProcessor
from rules.conditions import compile_predicate, explain, parse_conditions
from rules.errors import RulesError

BACKTEST_MAX_EVENTS = 200_000


def _definition(session: Session, event_id) -> EventDefinition:
    if isinstance(event_id, bool) or not isinstance(event_id, (int, str)) or not str(event_id).isdigit():
        raise RulesError("请选择事件", {"event_id": "event_id 应为事件的整数 ID"})
    definition = session.get(EventDefinition, int(event_id or 0))
    if definition is None:
        raise RulesError("请选择事件", {"event_id": "请选择事件"})
    return definition


def dry_run(session: Session, strategy: dict, sample: dict, registry, services) -> dict:
    """Per row: true/false with the values seen; per step: the rendered payload. Nothing is sent."""
    definition = _definition(session, strategy.get("event_id"))
    steps_in = strategy.get("steps") or []
    if not isinstance(steps_in, list) or not all(isinstance(s, dict) and s.get("processor") for s in steps_in):
        raise RulesError("执行操作格式错误", {"steps": "steps 应为数组，每一步是含 processor 的对象"})
    tz = services.settings.timezone
    clean, errors = normalise(definition.fields or [], sample or {}, tz)
    if errors:
        return {"valid": False, "errors": errors}
    now = services.now()
    node = parse_conditions(strategy.get("conditions") or [], definition.fields or [])
    matched, trace = explain(node, typed(definition.fields or [], clean, tz), now)
    steps = []
    for plan in plan_steps(steps_in, now, now, tz):
        entry = {"index": plan.step_index, "processor": plan.processor_key, "timing": plan.timing,
                 "due_at": local_iso(plan.due_at, tz),
                 "due_at_text": format_local(plan.due_at, tz_name=tz), "status": plan.status, "note": plan.note}
        try:
            processor = registry.get(plan.processor_key)
            entry["processor_name"] = processor.name
            ctx = ProcessorContext(event_code=definition.code, data=clean, event_record_id=0, strategy_id=0,
                                   task_id=0, idempotency_key="dry-run", attempt=1, services=services, dry_run=True,
                                   processors=registry)
            entry["rendered"] = processor.render(ctx, plan.config)
        except (UnknownProcessor, ProcessorError, PlaceholderError) as exc:
            entry["error"] = getattr(exc, "message", str(exc))
        steps.append(entry)
    return {"valid": True, "matched": matched, "trace": [t.as_dict() for t in trace], "steps": steps, "data": clean}


def backtest(session: Session, strategy: dict, since: datetime, until: datetime, tz: str, now: datetime,
             examples: int = 10) -> dict:
    """Counts stored accepted events of the period that the strategy's conditions would match."""
    definition = _definition(session, strategy.get("event_id"))
    node = parse_conditions(strategy.get("conditions") or [], definition.fields or [])
    predicate = compile_predicate(node)
    fields = definition.fields or []
    total = matched = 0
    samples = []
    rows = session.execute(
        select(EventRecord.id, EventRecord.data, EventRecord.received_at)
        .where(EventRecord.event_code == definition.code, EventRecord.status == "accepted",
               EventRecord.received_at >= since, EventRecord.received_at < until)
        .order_by(EventRecord.id).limit(BACKTEST_MAX_EVENTS)
        .execution_options(yield_per=2000)
    )
    for record_id, data, received_at in rows:
        total += 1
        if predicate(typed(fields, data or {}, tz), now):
            matched += 1
            if len(samples) < examples:
                samples.append({"record_id": record_id, "received_at": local_iso(received_at, tz),
                                "received_at_text": format_local(received_at, "%Y-%m-%d %H:%M:%S", tz), "data": data})
    return {"total": total, "matched": matched, "ratio": round(matched / total, 4) if total else 0.0,
            "examples": samples, "truncated": total >= BACKTEST_MAX_EVENTS}
