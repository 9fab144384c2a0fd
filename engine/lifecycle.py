"""Enabling, disabling, reordering and deleting strategies — and what that does to their tasks.

Disabling a strategy cancels its pending delayed tasks (the console first shows how many).
"""
from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlmodel import Session

from config.clock import utcnow
from engine.models import CLAIMABLE_STATUSES, StrategyTask
from rules.errors import RulesError
from rules.models import Strategy
from engine.authoring import get_strategy

TASKS = StrategyTask.__table__


def pending_task_count(session: Session, strategy_ids: list[int]) -> int:
    return session.execute(
        select(func.count()).select_from(TASKS)
        .where(TASKS.c.strategy_id.in_(strategy_ids), TASKS.c.status.in_(CLAIMABLE_STATUSES))
    ).scalar() or 0


def cancel_strategy_tasks(session: Session, strategy_ids: list[int], note: str) -> int:
    return session.execute(
        update(TASKS).where(TASKS.c.strategy_id.in_(strategy_ids), TASKS.c.status.in_(CLAIMABLE_STATUSES))
        .values(status="cancelled", note=note, finished_at=utcnow(), lease_until=None)
    ).rowcount


def set_enabled(session: Session, strategy_ids: list[int], enabled: bool) -> dict:
    """Returns {"changed": n, "cancelled_tasks": m}."""
    changed = 0
    for strategy_id in strategy_ids:
        strategy = get_strategy(session, int(strategy_id))
        if strategy.enabled != enabled:
            strategy.enabled = enabled
            strategy.updated_at = utcnow()
            session.add(strategy)
            changed += 1
    cancelled = 0
    if not enabled:
        cancelled = cancel_strategy_tasks(session, [int(i) for i in strategy_ids], "策略已禁用，任务取消")
    session.flush()
    return {"changed": changed, "cancelled_tasks": cancelled}


def delete_strategy(session: Session, strategy_id: int) -> int:
    strategy = get_strategy(session, strategy_id)
    cancelled = cancel_strategy_tasks(session, [strategy.id], "策略已删除，任务取消")
    session.delete(strategy)
    session.flush()
    return cancelled


def reorder_strategies(session: Session, group_id: int, ordered_ids: list[int]) -> None:
    """Drag-and-drop order within a group; it is the firing order."""
    now = utcnow()
    for position, strategy_id in enumerate(ordered_ids, start=1):
        strategy = get_strategy(session, int(strategy_id))
        if strategy.group_id != group_id:
            raise RulesError(f"策略「{strategy.name}」不属于该策略组")
        strategy.position = position
        strategy.updated_at = now
        session.add(strategy)
    session.flush()


def list_strategies(session: Session, group_id: int | None = None, q: str = "", hidden_templates=()) -> list[Strategy]:
    """`hidden_templates`: 工作台 template keys the viewer's families do not cover (left out)."""
    stmt = select(Strategy).order_by(Strategy.group_id, Strategy.position, Strategy.id)
    if group_id:
        stmt = stmt.where(Strategy.group_id == group_id)
    if hidden_templates:
        stmt = stmt.where(or_(Strategy.template_key.is_(None), Strategy.template_key.notin_(list(hidden_templates))))
    rows = list(session.execute(stmt).scalars())
    return [r for r in rows if not q or q in r.name]
