"""事件注册中心: create, edit, copy, enable/disable event definitions; import the built-ins.

Whether an edit would break strategies is decided by the engine (it knows strategies); this
module only keeps definitions valid.
"""
from __future__ import annotations

import re
import secrets
from typing import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from config.clock import utcnow
from events.builtin import BUILTIN_EVENTS
from events.errors import EventsError, NotFound
from events.field_types import check_field_definitions, clean_field
from events.models import EventDefinition

CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def list_definitions(session: Session, q: str = "", enabled: bool | None = None) -> list[EventDefinition]:
    stmt = select(EventDefinition).order_by(EventDefinition.id)
    if enabled is not None:
        stmt = stmt.where(EventDefinition.enabled == enabled)
    rows = list(session.exec(stmt))
    if q:
        rows = [r for r in rows if q in r.name or q in r.code or q in r.remark]
    return rows


def get_definition(session: Session, definition_id: int) -> EventDefinition:
    row = session.get(EventDefinition, definition_id)
    if row is None:
        raise NotFound(f"事件 {definition_id} 不存在")
    return row


def get_by_code(session: Session, code: str) -> EventDefinition | None:
    return session.exec(select(EventDefinition).where(EventDefinition.code == code)).first()


def _validate(session: Session, data: dict, existing: EventDefinition | None) -> dict:
    errors: dict[str, str] = {}
    name = str(data.get("name", "")).strip()
    code = str(data.get("code", "")).strip()
    if not name:
        errors["name"] = "事件名称不能为空"
    elif len(name) > 100:
        errors["name"] = "事件名称最多 100 个字符"
    if not code:
        errors["code"] = "事件代码不能为空"
    elif not CODE_RE.match(code):
        errors["code"] = "事件代码只能包含字母、数字、下划线、点和短横线，最多 64 个字符"
    else:
        clash = get_by_code(session, code)
        if clash is not None and (existing is None or clash.id != existing.id):
            errors["code"] = f"事件代码「{code}」已被事件「{clash.name}」使用"
    fields = data.get("fields", [])
    errors.update(check_field_definitions(fields))
    if len(str(data.get("remark", ""))) > 500:
        errors["remark"] = "备注最多 500 个字符"
    if errors:
        raise EventsError("事件定义有误，请检查标红的字段", errors)
    return {
        "name": name,
        "code": code,
        "enabled": bool(data.get("enabled", True)),
        "remark": str(data.get("remark", "")).strip(),
        "fields": [clean_field(f) for f in fields],
    }


def create_definition(session: Session, data: dict) -> EventDefinition:
    clean = _validate(session, data, None)
    row = EventDefinition(**clean)
    session.add(row)
    session.flush()
    return row


def update_definition(session: Session, definition_id: int, data: dict) -> EventDefinition:
    row = get_definition(session, definition_id)
    clean = _validate(session, data, row)
    for key, value in clean.items():
        setattr(row, key, value)
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    return row


def delete_definition(session: Session, definition_id: int) -> None:
    session.delete(get_definition(session, definition_id))
    session.flush()


def set_enabled(session: Session, ids: Iterable[int], enabled: bool) -> int:
    count = 0
    for definition_id in ids:
        row = get_definition(session, definition_id)
        row.enabled = enabled
        row.updated_at = utcnow()
        session.add(row)
        count += 1
    session.flush()
    return count


def copy_definitions(session: Session, ids: Iterable[int]) -> list[EventDefinition]:
    """Copies keep everything but the name and code (as 晓售 does)."""
    copies = []
    for definition_id in ids:
        src = get_definition(session, definition_id)
        suffix = secrets.token_hex(3)
        row = EventDefinition(
            code=f"{src.code[:55]}_{suffix}", name=f"{src.name[:90]}-副本", enabled=src.enabled,
            remark=src.remark, fields=[dict(f) for f in src.fields],
        )
        session.add(row)
        copies.append(row)
    session.flush()
    return copies


def import_builtin(session: Session, keys: Iterable[str] | None = None, extra: list[dict] | None = None) -> dict:
    """Creates the built-in events that are missing; returns {"created": [...], "skipped": [...]}."""
    wanted = set(keys) if keys else None
    created, skipped = [], []
    for spec in list(BUILTIN_EVENTS) + list(extra or []):
        if wanted is not None and spec["key"] not in wanted:
            continue
        exists = session.exec(
            select(EventDefinition).where(
                (EventDefinition.builtin_key == spec["key"]) | (EventDefinition.code == spec["code"])
            )
        ).first()
        if exists:
            skipped.append(spec["name"])
            continue
        session.add(EventDefinition(
            code=spec["code"], name=spec["name"], remark=spec.get("remark", ""),
            fields=[clean_field(f) for f in spec["fields"]], builtin_key=spec["key"], enabled=True,
        ))
        created.append(spec["name"])
    session.flush()
    return {"created": created, "skipped": skipped}


def ensure_builtin(session: Session, keys: Iterable[str], extra: list[dict] | None = None) -> None:
    """Makes sure the built-in (or `extra`) definitions `keys` exist before an emitter stores its
    event (else the ledger keeps it as refused). Cheap when they exist; a concurrent creator on
    PostgreSQL is tolerated: the savepoint rolls back and theirs stays."""
    keys = tuple(keys)
    present = session.exec(select(EventDefinition.builtin_key).where(EventDefinition.builtin_key.in_(keys))).all()
    if len(set(present)) == len(set(keys)):
        return
    try:
        with session.begin_nested():
            import_builtin(session, keys=keys, extra=extra)
    except IntegrityError:
        pass
