"""What an edit to an event definition would do to the strategies that use it.

Editing a definition that enabled strategies use warns (naming each strategy and why) and never
silently breaks them: the console asks for confirmation, and a strategy that no longer
compiles is skipped by the matcher and shown as broken.
"""
from __future__ import annotations

from sqlmodel import Session, select

from rules.conditions import ConditionError, parse_conditions
from rules.models import Strategy


def strategies_using_event(session: Session, definition_id: int) -> list[dict]:
    rows = session.exec(select(Strategy).where(Strategy.event_id == definition_id)).all()
    return [{"id": s.id, "name": s.name, "enabled": s.enabled} for s in rows]


def definition_change_impact(session: Session, definition_id: int, new_fields: list, registry=None) -> list[dict]:
    """Enabled strategies whose conditions or ${变量} would break under `new_fields`."""
    if not isinstance(new_fields, list):
        new_fields = []  # the definition service refuses such input with a field error
    names = {f.get("name") for f in new_fields if isinstance(f, dict)}
    impact = []
    for s in session.exec(select(Strategy).where(Strategy.event_id == definition_id, Strategy.enabled.is_(True))):
        problems = []
        try:
            parse_conditions(s.conditions or [], [f for f in new_fields if isinstance(f, dict)])
        except ConditionError as exc:
            problems.append(exc.message)
        if registry is not None:
            for i, step in enumerate(s.steps or []):
                try:
                    missing = registry.get(step["processor"]).variables(step.get("config") or {}) - names
                except LookupError:
                    continue
                if missing:
                    problems.append(f"第 {i + 1} 步使用的变量将不存在：" + "、".join(sorted(missing)))
        if problems:
            impact.append({"id": s.id, "name": s.name, "problems": problems})
    return impact
