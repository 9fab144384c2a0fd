"""处理器注册中心 service functions: list, create, edit and delete user HTTP processors.

Validation answers in Chinese, field by field, so the console can show each message next to
its input. A definition's key (`custom.<slug>`) is made once and never changes: strategies
store it. Whoever edits a definition should call `ProcessorRegistry.invalidate(key)` (or pass
the registry here) so running strategies pick up the change.
"""
from __future__ import annotations

import secrets
from typing import Any, Optional

from sqlmodel import func, select

from config.clock import utcnow
from config.retry_schedule import RetryScheduleError, format_schedule, parse_schedule
from crm.people.notifications import notify_permission
from events.placeholders import PlaceholderError, find_variables
from handlers.builtin.http import BODY_METHODS, METHODS, json_template_problem
from handlers.models import ProcessorDefinition
from handlers.url_template import header_value_problem, url_template_problem

EDITABLE = ("name", "method", "url", "params", "headers", "body", "timeout_seconds", "remark", "enabled",
            "retry_schedule")
DEFAULTS = {"method": "POST", "params": [], "headers": [], "body": "", "timeout_seconds": 10.0,
            "remark": "", "enabled": True, "retry_schedule": ""}
GONE_REASON = "对方返回 410 Gone"


class DefinitionError(ValueError):
    """Invalid input; `errors` maps each field name to a Chinese message."""

    def __init__(self, errors: dict[str, str]):
        self.message = "；".join(errors.values())
        super().__init__(self.message)
        self.errors = errors


class DefinitionNotFound(LookupError):
    def __init__(self, definition_id: Any):
        self.message = f"处理器 #{definition_id} 不存在或已被删除"
        super().__init__(self.message)


def _rows(value: Any, label: str, errors: dict, field: str, with_flags: bool) -> list[dict]:
    if value in (None, ""):
        return []
    if isinstance(value, dict):  # {name: value} from a JSON client
        value = [{"name": k, "value": v} for k, v in value.items()]
    if not isinstance(value, list):
        errors[field] = f"{label}格式不正确，应为列表"
        return []
    rows = []
    for index, row in enumerate(value, start=1):
        if not isinstance(row, dict) or not str(row.get("name") or "").strip():
            errors[field] = f"第 {index} 个{label}缺少名称"
            continue
        clean = {"name": str(row["name"]).strip(), "value": "" if row.get("value") is None else str(row["value"])}
        if with_flags:
            clean["remark"] = str(row.get("remark") or "")
            clean["fixed"] = bool(row.get("fixed"))
        try:
            find_variables(clean["value"])
        except PlaceholderError as exc:
            errors[field] = f"第 {index} 个{label}：{exc}"
        rows.append(clean)
    names = [r["name"] for r in rows]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated and with_flags:
        errors[field] = f"{label}名称重复：{'、'.join(duplicated)}"
    return rows


def _clean(db, data: dict, current: Optional[ProcessorDefinition]) -> dict:
    base = {f: getattr(current, f) for f in EDITABLE} if current else dict(DEFAULTS)
    merged = {**base, **{k: v for k, v in data.items() if k in EDITABLE}}
    errors: dict[str, str] = {}
    name = str(merged.get("name") or "").strip()
    if not name:
        errors["name"] = "名称不能为空"
    elif len(name) > 100:
        errors["name"] = "名称不能超过 100 个字符"
    else:
        with db.read() as session:
            query = select(ProcessorDefinition).where(func.lower(ProcessorDefinition.name) == name.lower())
            if current is not None:
                query = query.where(ProcessorDefinition.id != current.id)
            if session.exec(query).first() is not None:
                errors["name"] = f"名称「{name}」已被其他处理器使用"
    method = str(merged.get("method") or "").strip().upper()
    if method not in METHODS:
        errors["method"] = f"请求方式只能是 {'/'.join(METHODS)}"
    url = str(merged.get("url") or "").strip()
    if problem := url_template_problem(url):
        errors["url"] = problem
    params = _rows(merged.get("params"), "参数", errors, "params", with_flags=True)
    headers = _rows(merged.get("headers"), "请求头", errors, "headers", with_flags=False)
    for row in headers:
        if problem := header_value_problem(row["name"], row["value"]):
            errors["headers"] = problem
    body = str(merged.get("body") or "")
    if len(body) > 20000:
        errors["body"] = "请求体不能超过 20000 个字符"
    elif method in BODY_METHODS and (problem := json_template_problem(body)):
        errors["body"] = problem
    try:
        timeout = float(merged.get("timeout_seconds"))
        if not 1 <= timeout <= 60:
            errors["timeout_seconds"] = "超时时间须在 1–60 秒之间"
    except (TypeError, ValueError):
        timeout = 0.0
        errors["timeout_seconds"] = "超时时间必须是数字（秒）"
    remark = str(merged.get("remark") or "")
    if len(remark) > 500:
        errors["remark"] = "备注不能超过 500 个字符"
    retry_schedule = str(merged.get("retry_schedule") or "").strip()
    if retry_schedule:
        try:
            retry_schedule = format_schedule(parse_schedule(retry_schedule))
        except RetryScheduleError as exc:
            errors["retry_schedule"] = str(exc)
    if errors:
        raise DefinitionError(errors)
    enabled = bool(merged.get("enabled", True))
    return {"name": name, "method": method, "url": url, "params": params, "headers": headers,
            "body": body, "timeout_seconds": timeout, "remark": remark, "enabled": enabled,
            "retry_schedule": retry_schedule,
            # Re-enabling in the console is the operator's answer to the server disabling it.
            "disabled_reason": "" if enabled else (current.disabled_reason if current else "")}


def _new_key(session) -> str:
    # Random rather than derived from the name: the name may be edited, the key never.
    while True:
        key = f"custom.{secrets.token_hex(4)}"
        if session.exec(select(ProcessorDefinition).where(ProcessorDefinition.key == key)).first() is None:
            return key


def list_definitions(db) -> list[ProcessorDefinition]:
    with db.read() as session:
        return list(session.exec(select(ProcessorDefinition).order_by(ProcessorDefinition.id)).all())


def get_definition(db, definition_id: int) -> ProcessorDefinition:
    with db.read() as session:
        definition = session.get(ProcessorDefinition, definition_id)
    if definition is None:
        raise DefinitionNotFound(definition_id)
    return definition


def create_definition(db, data: dict) -> ProcessorDefinition:
    values = _clean(db, data, None)
    with db.write() as session:
        now = utcnow()
        definition = ProcessorDefinition(key=_new_key(session), created_at=now, updated_at=now, **values)
        session.add(definition)
        session.flush()
        session.refresh(definition)
    return definition


def update_definition(db, definition_id: int, data: dict, registry=None) -> ProcessorDefinition:
    """Applies the given fields (others keep their values); the key never changes."""
    values = _clean(db, data, get_definition(db, definition_id))
    with db.write() as session:
        definition = session.get(ProcessorDefinition, definition_id)
        if definition is None:
            raise DefinitionNotFound(definition_id)
        for field, value in values.items():
            setattr(definition, field, value)
        definition.updated_at = utcnow()
        session.add(definition)
        session.flush()
        session.refresh(definition)
    if registry is not None:
        registry.invalidate(definition.key)
    return definition


def disable_gone(db, key: str, reason: str, now=None) -> Optional[ProcessorDefinition]:
    """Disables the definition because its target said it is gone, and tells everyone who can
    re-enable it (站内通知). Only the first call notifies: later steps find it disabled."""
    with db.write() as session:
        definition = session.exec(select(ProcessorDefinition).where(ProcessorDefinition.key == key)).first()
        if definition is None or not definition.enabled:
            return None
        definition.enabled = False
        definition.disabled_reason = reason
        definition.updated_at = now or utcnow()
        session.add(definition)
        session.flush()
        session.refresh(definition)
    notify_permission(db, "processors.manage", f"处理器「{definition.name}」已自动停用",
                      f"{reason}：{definition.method} {definition.url}。引用它的策略步骤将不再调用它；"
                      "确认对方地址后可在处理器注册中心编辑并重新启用。",
                      link=f"/processors/{definition.id}/edit", source="processors", now=now)
    return definition


def delete_definition(db, definition_id: int, registry=None) -> None:
    with db.write() as session:
        definition = session.get(ProcessorDefinition, definition_id)
        if definition is None:
            raise DefinitionNotFound(definition_id)
        key = definition.key
        session.delete(definition)
    if registry is not None:
        registry.invalidate(key)


def variables_of(definition: ProcessorDefinition) -> list[str]:
    """Every ${var} the definition uses (URL, parameter and header values, body), sorted."""
    found = find_variables([definition.url, [p.get("value", "") for p in definition.params or []],
                            [h.get("value", "") for h in definition.headers or []], definition.body or ""])
    return sorted(found)
