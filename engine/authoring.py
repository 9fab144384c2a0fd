"""Saving strategies: every check a marketer's strategy must pass before it can run.

Conditions must parse against the event's fields; the matcher's limits must hold; each step's
processor must exist, be configured, and use only ${变量} the event defines; timings must make
sense. Refusals name the row or step in Chinese. Every save is a version.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, func, select

from config.clock import utcnow
from engine.matcher import check_limits
from events.field_types import FieldValueError, parse_datetime
from events.models import EventDefinition
from handlers.errors import UnknownProcessor
from rules.conditions import ConditionError, parse_conditions
from rules.errors import NotFound, RulesError
from rules.groups import get_group
from rules.models import Strategy
from rules.versions import get_version, record_version, snapshot

MAX_STEPS = 20
MAX_DELAY_HOURS = 24 * 366
TIMING_MODES = ("immediate", "delay", "until")


def _window(data: dict, tz: str, errors: dict) -> tuple[datetime | None, datetime | None]:
    out = []
    for key, label in (("starts_at", "生效时间"), ("ends_at", "失效时间")):
        value = data.get(key)
        if value in (None, ""):
            out.append(None)
            continue
        try:
            out.append(parse_datetime(value, tz))
        except FieldValueError as exc:
            errors[key] = f"{label}无效：{exc}"
            out.append(None)
    if out[0] and out[1] and out[0] >= out[1]:
        errors["ends_at"] = "失效时间必须晚于生效时间"
    return out[0], out[1]


def _check_timing(i: int, timing: dict, tz: str, errors: dict) -> dict:
    key = f"steps[{i}].timing"
    if not isinstance(timing, dict):
        errors[key] = f"第 {i + 1} 步：延迟设置格式错误"
        return {"mode": "immediate"}
    mode = timing.get("mode", "immediate")
    if mode not in TIMING_MODES:
        errors[key] = f"第 {i + 1} 步：延迟方式「{mode}」无效"
        return {"mode": "immediate"}
    if mode == "delay":
        try:
            hours = float(timing.get("hours") or 0)
            minutes = float(timing.get("minutes") or 0)
        except (TypeError, ValueError):
            errors[key] = f"第 {i + 1} 步：延迟时长应为数字"
            return timing
        total = hours + minutes / 60
        if total <= 0 or total > MAX_DELAY_HOURS or hours < 0 or minutes < 0:
            errors[key] = f"第 {i + 1} 步：延迟时长应大于 0 且不超过 {MAX_DELAY_HOURS} 小时"
        return {"mode": "delay", "hours": hours, "minutes": minutes}
    if mode == "until":
        try:
            at = parse_datetime(timing.get("at"), tz)
        except FieldValueError as exc:
            errors[key] = f"第 {i + 1} 步：指定执行时间无效：{exc}"
            return timing
        return {"mode": "until", "at": at.isoformat()}
    return {"mode": "immediate"}


def _check_steps(steps, definition: EventDefinition, registry, tz: str, errors: dict) -> list[dict]:
    if not isinstance(steps, list) or not steps:
        errors["steps"] = "至少添加一个执行操作"
        return []
    if len(steps) > MAX_STEPS:
        errors["steps"] = f"一条策略最多 {MAX_STEPS} 个执行操作"
    field_names = {f["name"] for f in definition.fields or []}
    clean = []
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or not step.get("processor"):
            errors[f"steps[{i}].processor"] = f"第 {i + 1} 步：请选择处理器"
            continue
        config = step.get("config") or {}
        if not isinstance(config, dict):
            errors[f"steps[{i}].config"] = f"第 {i + 1} 步：操作配置格式错误"
            continue
        try:
            processor = registry.get(step["processor"])
        except UnknownProcessor as exc:
            errors[f"steps[{i}].processor"] = f"第 {i + 1} 步：{exc}"
            continue
        problems = processor.validate_config(config)
        try:
            missing = sorted(processor.variables(config) - field_names)
        except ValueError as exc:  # a template that does not parse
            problems.append(str(exc))
            missing = []
        if missing:
            names = "、".join("${" + m + "}" for m in missing)
            problems.append(f"使用了事件「{definition.name}」中没有的变量：{names}")
        if problems:
            errors[f"steps[{i}].config"] = f"第 {i + 1} 步「{processor.name}」：" + "；".join(problems)
        timing = _check_timing(i, step.get("timing") or {"mode": "immediate"}, tz, errors)
        clean.append({"processor": step["processor"], "config": config, "timing": timing})
    return clean


def validate(session: Session, data: dict, registry, tz: str) -> dict:
    """Returns clean values for a Strategy, or raises RulesError with every problem named."""
    errors: dict = {}
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "策略名不能为空"
    elif len(name) > 200:
        errors["name"] = "策略名最多 200 个字符"
    try:
        group = get_group(session, int(data.get("group_id") or 0))
    except (NotFound, ValueError, TypeError):
        group = None
        errors["group_id"] = "请选择策略组"
    definition = None
    try:
        definition = session.get(EventDefinition, int(data.get("event_id") or 0))
    except (ValueError, TypeError):
        pass
    if definition is None:
        errors["event_id"] = "请选择事件"
    starts_at, ends_at = _window(data, tz, errors)
    rows = data.get("conditions") or []
    steps = []
    if definition is not None:
        try:
            node = parse_conditions(rows, definition.fields or [])
        except ConditionError as exc:
            errors["conditions"] = exc.message
        else:
            limits = check_limits(node, definition.fields or [])
            if limits:
                errors["conditions"] = "；".join(limits)
        steps = _check_steps(data.get("steps"), definition, registry, tz, errors)
    if errors:
        raise RulesError("策略配置有误，请按提示修改", errors)
    return {"name": name, "group_id": group.id, "event_id": definition.id, "starts_at": starts_at,
            "ends_at": ends_at, "conditions": rows, "steps": steps, "remark": str(data.get("remark") or "")[:500]}


def create_strategy(session: Session, data: dict, registry, tz: str, user: str = "") -> Strategy:
    clean = validate(session, data, registry, tz)
    position = (session.exec(select(func.max(Strategy.position)).where(Strategy.group_id == clean["group_id"])).one() or 0) + 1
    strategy = Strategy(**clean, position=position, enabled=False, created_by=user, version=1)
    session.add(strategy)
    session.flush()
    record_version(session, strategy, user, None)
    return strategy


def update_strategy(session: Session, strategy_id: int, data: dict, registry, tz: str, user: str = "", summary: str = "") -> Strategy:
    strategy = get_strategy(session, strategy_id)
    previous = snapshot(strategy)
    clean = validate(session, data, registry, tz)
    for key, value in clean.items():
        setattr(strategy, key, value)
    if snapshot(strategy) == previous:
        return strategy  # nothing changed: no new version
    strategy.version += 1
    strategy.updated_at = utcnow()
    session.add(strategy)
    session.flush()
    record_version(session, strategy, user, previous, summary)
    return strategy


def rollback_strategy(session: Session, strategy_id: int, version: int, registry, tz: str, user: str = "") -> Strategy:
    """Re-saves an old version's content as a new version (it must still validate)."""
    old = get_version(session, strategy_id, version).snapshot
    return update_strategy(session, strategy_id, dict(old), registry, tz, user, summary=f"回滚到版本 {version}")


def get_strategy(session: Session, strategy_id: int) -> Strategy:
    strategy = session.get(Strategy, strategy_id)
    if strategy is None:
        raise NotFound(f"策略 {strategy_id} 不存在")
    return strategy
