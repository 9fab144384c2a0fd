"""工作台 tasks: saving a feature's wizard creates or updates an ordinary strategy (validated like
any other, listed in 自动化策略管理 under the group 「工作台·<功能>」, new tasks disabled until 启用),
keeps the wizard's answers so the wizard can reopen them, and keeps the task's schedule triggers
in step with its schedule.

Where the wizard's answers live: in the first step's config under "wizard". No schema change,
and they travel with the strategy — every version snapshot, rollback and export bundle carries
the answers that produced those steps. If someone rewrites that step by hand in 自动化策略管理,
the answers are found again in the latest version that still has them.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session

from config.clock import as_utc
from crm.leads.models import SCENE_TYPES, LeadChannel, LeadScene
from engine import authoring, lifecycle
from engine.models import StrategyRun, StrategyTask
from engine.schedule_triggers import delete_triggers, sync_triggers, triggers_of
from events.builtin import BUILTIN_EVENTS
from events.definitions import get_by_code, import_builtin
from events.field_types import parse_datetime
from handlers.builtin.crm_refs import resolve_tags
from handlers.errors import PermanentError
from rules.errors import RulesError
from rules.groups import create_group
from rules.models import Strategy, StrategyGroup, StrategyVersion
from rules.templates import TEMPLATES, WIZARD_KEY, BuildContext, TemplateError, get_template


def _event_id(session: Session, code: str) -> int:
    definition = get_by_code(session, code)
    if definition is None:  # a fresh install: bring in the built-in definition the feature needs
        import_builtin(session, [e["key"] for e in BUILTIN_EVENTS if e["code"] == code])
        definition = get_by_code(session, code)
    if definition is None:
        raise RulesError(f"事件「{code}」未注册，请先在事件注册中心导入内置事件")
    return definition.id


def group_name(template_key: str) -> str:
    return f"工作台·{get_template(template_key).name}"


def _group_id(session: Session, template_key: str) -> int:
    name = group_name(template_key)
    group = session.execute(select(StrategyGroup).where(StrategyGroup.name == name)).scalars().first()
    return (group or create_group(session, name)).id


def wizard_state(session: Session, strategy: Strategy) -> dict | None:
    """{"template", "config", "schedule_key"} as last saved by the wizard, or None."""
    steps = strategy.steps or []
    if steps and isinstance((steps[0].get("config") or {}).get(WIZARD_KEY), dict):
        return steps[0]["config"][WIZARD_KEY]
    versions = session.execute(select(StrategyVersion).where(StrategyVersion.strategy_id == strategy.id)
                               .order_by(StrategyVersion.version.desc())).scalars()
    for version in versions:
        old = (version.snapshot or {}).get("steps") or []
        if old and isinstance((old[0].get("config") or {}).get(WIZARD_KEY), dict):
            return old[0]["config"][WIZARD_KEY]
    return None


def _check_future(entries: list[dict], now: datetime, tz: str) -> None:
    for entry in entries:
        if entry.get("run_at") and parse_datetime(entry["run_at"], tz) <= now:
            raise TemplateError("执行时间已过", {"run_at": "执行时间已过，请选择将来的时间"})


def scene_words(session: Session) -> dict:
    """获客场景 name → [its kind's label, its default channel's name] (for 客户来源 filters)."""
    channels = dict(session.execute(select(LeadChannel.id, LeadChannel.name)).all())
    return {name: [SCENE_TYPES.get(kind, kind), channels.get(channel_id, "")]
            for name, kind, channel_id in session.execute(select(LeadScene.name, LeadScene.scene_type,
                                                                 LeadScene.default_channel_id)).all()}


def refuse_missing_tags(session: Session, steps: list[dict]) -> None:
    """A 打标签 step naming a tag that does not exist would fail on every run: refused at save, with
    the name, rather than creating a tag behind the operator's back (tags are curated in 标签管理)."""
    for s in steps:
        raw = str((s.get("config") or {}).get("tags") or "")
        if s.get("processor") != "crm.add_tag" or "${" in raw:
            continue
        try:
            resolve_tags(session, raw)
        except PermanentError as exc:
            raise TemplateError(f"{exc}，请先在「标签管理」中创建该标签，或改填已有标签",
                                {"tags": f"{exc}，请先在「标签管理」中创建"}) from None


def save_task(session: Session, template_key: str, config: dict, registry, tz: str, now: datetime, *,
              strategy_id: int | None = None, user: str = "") -> Strategy:
    """Creates (strategy_id None) or updates a workbench task; raises TemplateError / RulesError."""
    template = get_template(template_key)
    existing = authoring.get_strategy(session, strategy_id) if strategy_id else None
    if existing is not None and existing.template_key != template_key:
        raise RulesError("该策略不是此工作台功能创建的任务")
    state = wizard_state(session, existing) if existing is not None else None
    schedule_key = (state or {}).get("schedule_key") or (f"wb-{template_key}-{secrets.token_hex(5)}" if template.scheduled else "")
    built = template.build(dict(config), BuildContext(timezone=tz, schedule_key=schedule_key,
                                                      scene_words=scene_words(session)))
    refuse_missing_tags(session, built["steps"])
    _check_future(built["schedule"], now, tz)
    steps = [dict(s) for s in built["steps"]]
    steps[0] = {**steps[0], "config": {**steps[0]["config"],
                                       WIZARD_KEY: {"template": template_key, "config": config, "schedule_key": schedule_key}}}
    data = {"name": built["name"], "group_id": existing.group_id if existing else _group_id(session, template_key),
            "event_id": _event_id(session, built["event_code"]), "conditions": built["conditions"], "steps": steps,
            "remark": f"由工作台「{template.name}」向导生成",
            "starts_at": existing.starts_at if existing else None, "ends_at": existing.ends_at if existing else None}
    if existing is None:
        strategy = authoring.create_strategy(session, data, registry, tz, user)
        strategy.template_key = template_key
        session.add(strategy)
    else:
        strategy = authoring.update_strategy(session, existing.id, data, registry, tz, user, summary="工作台向导修改")
    session.flush()
    if template.scheduled:
        sync_triggers(session, strategy.id, schedule_key, built["schedule"], tz, now)
    return strategy


def set_tasks_enabled(session: Session, strategy_ids: list[int], enabled: bool) -> dict:
    return lifecycle.set_enabled(session, strategy_ids, enabled)


def delete_task(session: Session, strategy_id: int) -> int:
    delete_triggers(session, strategy_id)
    return lifecycle.delete_strategy(session, strategy_id)


def list_tasks(session: Session, template_key: str) -> list[dict]:
    """The feature's tasks with their status, last run, how many events they acted on, next fire."""
    get_template(template_key)
    strategies = list(session.execute(select(Strategy).where(Strategy.template_key == template_key)
                                      .order_by(Strategy.id.desc())).scalars())
    ids = [s.id for s in strategies]
    runs = {}
    steps = {}
    if ids:
        runs = {sid: (count, last) for sid, count, last in session.execute(
            select(StrategyRun.strategy_id, func.count(), func.max(StrategyRun.created_at))
            .where(StrategyRun.strategy_id.in_(ids), StrategyRun.matched == True)  # noqa: E712
            .group_by(StrategyRun.strategy_id))}
        for sid, status, count in session.execute(
                select(StrategyTask.strategy_id, StrategyTask.status, func.count())
                .where(StrategyTask.strategy_id.in_(ids)).group_by(StrategyTask.strategy_id, StrategyTask.status)):
            steps.setdefault(sid, {})[status] = count
    triggers = triggers_of(session, ids)
    out = []
    for s in strategies:
        count, last = runs.get(s.id, (0, None))
        upcoming = [as_utc(t.next_fire_at) for t in triggers.get(s.id, []) if t.enabled and t.next_fire_at]
        out.append({"strategy": s, "wizard": wizard_state(session, s) or {}, "runs": count,
                    "last_run_at": as_utc(last) if last else None, "steps": steps.get(s.id, {}),
                    "next_fire_at": min(upcoming) if upcoming else None})
    return out


def counts_by_template(session: Session) -> dict[str, dict]:
    """For the 工作台 home cards: tasks and enabled tasks per feature."""
    out = {key: {"total": 0, "enabled": 0} for key in TEMPLATES}
    for key, enabled, count in session.execute(
            select(Strategy.template_key, Strategy.enabled, func.count())
            .where(Strategy.template_key.in_(list(TEMPLATES))).group_by(Strategy.template_key, Strategy.enabled)):
        out[key]["total"] += count
        if enabled:
            out[key]["enabled"] += count
    return out


def get_task(session: Session, template_key: str, strategy_id: int) -> Strategy:
    strategy = authoring.get_strategy(session, strategy_id)
    if strategy.template_key != template_key:
        raise RulesError("该策略不是此工作台功能创建的任务")
    return strategy
