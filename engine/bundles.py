"""Bundles: event definitions, HTTP processors and strategies exported to one JSON document
and imported elsewhere, with a report of what was created, updated or refused.

References travel by stable keys (event code, processor key, group name), never by ids.
Imported strategies are validated like any save; new ones start disabled.
"""
from __future__ import annotations

from datetime import datetime
from typing import Callable, Optional

from sqlalchemy import update
from sqlmodel import Session, select

from config.db import Database

from config.clock import local_iso, utcnow
from engine.authoring import create_strategy, update_strategy
from events.definitions import create_definition, get_by_code, update_definition
from events.errors import EventsError
from events.models import EventDefinition
from handlers.definitions import DefinitionError, create_definition as create_processor, update_definition as update_processor
from handlers.models import ProcessorDefinition
from rules.errors import RulesError
from rules.groups import create_group
from rules.models import Strategy, StrategyGroup

BUNDLE_FORMAT = "cunkebao.bundle/1"
PROCESSOR_FIELDS = ("name", "method", "url", "params", "headers", "body", "timeout_seconds", "remark", "enabled")


def export_bundle(session: Session, strategy_ids: list[int] | None = None) -> dict:
    strategies = list(session.exec(select(Strategy).order_by(Strategy.id)))
    if strategy_ids:
        strategies = [s for s in strategies if s.id in set(strategy_ids)]
    groups = {g.id: g for g in session.exec(select(StrategyGroup))}
    events = {e.id: e for e in session.exec(select(EventDefinition))}
    used_events = {s.event_id for s in strategies} if strategy_ids else set(events)
    used_processors = {st["processor"] for s in strategies for st in s.steps or []}
    processors = [p for p in session.exec(select(ProcessorDefinition)) if not strategy_ids or p.key in used_processors]
    return {
        "format": BUNDLE_FORMAT, "exported_at": local_iso(utcnow()),
        "events": [{"code": e.code, "name": e.name, "enabled": e.enabled, "remark": e.remark, "fields": e.fields}
                   for i, e in events.items() if i in used_events],
        "processors": [{"key": p.key, **{f: getattr(p, f) for f in PROCESSOR_FIELDS}} for p in processors],
        "strategies": [{
            "name": s.name, "group": groups[s.group_id].name, "event": events[s.event_id].code,
            "enabled": s.enabled, "starts_at": _iso(s.starts_at), "ends_at": _iso(s.ends_at),
            "conditions": s.conditions, "steps": s.steps, "remark": s.remark,
        } for s in strategies],
    }


def _iso(value: datetime | None):
    return value.isoformat() if value else None


def import_bundle(db: Database, bundle: dict, registry, tz: str, user: str = "",
                  may_manage: Callable[[Optional[str]], Optional[str]] = lambda _key: None) -> dict:
    """Each item is its own unit: one refused item never half-writes or blocks the others.

    `may_manage(template_key)` names the permission the importing user lacks to change an existing
    strategy of that template (工作台 families), or None: a bundle never overwrites a task its
    importer could not edit by hand."""
    report = {"created": [], "updated": [], "refused": []}
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        report["refused"].append({"item": "bundle", "reason": f"不是存客宝导出文件（format 应为 {BUNDLE_FORMAT}）"})
        return report
    # Processors first (their service manages its own transactions), then one session with a
    # savepoint per event and strategy.
    for proc in _objects(bundle, "processors", report):
        _item(None, report, f"处理器 {proc.get('name')}", lambda proc=proc: _import_processor(db, proc))
    registry.invalidate()
    with db.write() as session:
        for ev in _objects(bundle, "events", report):
            _item(session, report, f"事件 {ev.get('code')}", lambda ev=ev: _import_event(session, ev))
        for st in _objects(bundle, "strategies", report):
            _item(session, report, f"策略 {st.get('name')}",
                  lambda st=st: _import_strategy(session, st, registry, tz, user, may_manage))
    return report


def _objects(bundle: dict, part: str, report: dict) -> list[dict]:
    """The objects of one part; anything else in it is refused by name, not crashed on."""
    items = bundle.get(part) or []
    if not isinstance(items, list):
        report["refused"].append({"item": part, "reason": f"{part} 应为数组"})
        return []
    bad = [i for i, item in enumerate(items) if not isinstance(item, dict)]
    for i in bad:
        report["refused"].append({"item": f"{part}[{i}]", "reason": "应为 JSON 对象"})
    return [item for item in items if isinstance(item, dict)]


def _item(session: Session | None, report: dict, label: str, action) -> None:
    try:
        if session is None:
            kind = action()
        else:
            with session.begin_nested():
                kind = action()
        report[kind].append(label)
    except (EventsError, RulesError, DefinitionError) as exc:
        detail = "；".join(str(v) for v in getattr(exc, "errors", {}).values()) or exc.message
        report["refused"].append({"item": label, "reason": detail})
    except (KeyError, TypeError, ValueError) as exc:
        report["refused"].append({"item": label, "reason": f"格式错误：{exc}"})


def _import_event(session: Session, ev: dict) -> str:
    existing = get_by_code(session, ev["code"])
    if existing:
        update_definition(session, existing.id, ev)
        return "updated"
    create_definition(session, ev)
    return "created"


def _import_processor(db: Database, proc: dict) -> str:
    key = str(proc["key"])
    if not key.startswith("custom."):
        raise DefinitionError({"key": f"处理器键「{key}」无效（应以 custom. 开头）"})
    with db.read() as session:
        existing = session.exec(select(ProcessorDefinition).where(ProcessorDefinition.key == key)).first()
    data = {f: proc.get(f) for f in PROCESSOR_FIELDS if f in proc}
    if existing:
        update_processor(db, existing.id, data)
        return "updated"
    row = create_processor(db, data)
    with db.write() as session:  # keep the key the bundle's strategies refer to
        session.execute(update(ProcessorDefinition).where(ProcessorDefinition.id == row.id).values(key=key))
    return "created"


def _import_strategy(session: Session, st: dict, registry, tz: str, user: str, may_manage) -> str:
    event = get_by_code(session, st["event"])
    if event is None:
        raise RulesError(f"事件「{st['event']}」不存在")
    group = session.exec(select(StrategyGroup).where(StrategyGroup.name == st["group"])).first() or create_group(session, st["group"])
    data = {**st, "group_id": group.id, "event_id": event.id}
    existing = session.exec(select(Strategy).where(Strategy.group_id == group.id, Strategy.name == st["name"])).first()
    if existing:
        lacking = may_manage(existing.template_key)
        if lacking:
            raise RulesError(f"无权覆盖已有策略「{existing.name}」（缺少权限：{lacking}）")
        update_strategy(session, existing.id, data, registry, tz, user, summary="导入更新")
        return "updated"
    create_strategy(session, data, registry, tz, user)
    return "created"
