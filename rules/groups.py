"""策略组: named folders of strategies with a display order (the order strategies fire in)."""
from __future__ import annotations

from sqlmodel import Session, func, select

from config.clock import utcnow
from rules.errors import NotFound, RulesError
from rules.models import Strategy, StrategyGroup


def list_groups(session: Session) -> list[StrategyGroup]:
    return list(session.exec(select(StrategyGroup).order_by(StrategyGroup.position, StrategyGroup.id)))


def get_group(session: Session, group_id: int) -> StrategyGroup:
    group = session.get(StrategyGroup, group_id)
    if group is None:
        raise NotFound(f"策略组 {group_id} 不存在")
    return group


def _clean_name(session: Session, name, existing_id=None) -> str:
    name = str(name or "").strip()
    if not name:
        raise RulesError("策略组名称不能为空", {"name": "策略组名称不能为空"})
    if len(name) > 100:
        raise RulesError("策略组名称过长", {"name": "策略组名称最多 100 个字符"})
    clash = session.exec(select(StrategyGroup).where(StrategyGroup.name == name)).first()
    if clash is not None and clash.id != existing_id:
        raise RulesError("策略组名称重复", {"name": f"策略组「{name}」已存在"})
    return name


def create_group(session: Session, name: str) -> StrategyGroup:
    position = (session.exec(select(func.max(StrategyGroup.position))).one() or 0) + 1
    group = StrategyGroup(name=_clean_name(session, name), position=position)
    session.add(group)
    session.flush()
    return group


def rename_group(session: Session, group_id: int, name: str) -> StrategyGroup:
    group = get_group(session, group_id)
    group.name = _clean_name(session, name, group.id)
    session.add(group)
    session.flush()
    return group


def delete_group(session: Session, group_id: int) -> None:
    group = get_group(session, group_id)
    count = session.exec(select(func.count(Strategy.id)).where(Strategy.group_id == group_id)).one()
    if count:
        raise RulesError(f"策略组「{group.name}」下还有 {count} 条策略，请先移走或删除")
    session.delete(group)
    session.flush()


def reorder_groups(session: Session, ordered_ids: list[int]) -> None:
    """Group order is firing order; touching the strategies tells other processes to reload."""
    now = utcnow()
    for position, group_id in enumerate(ordered_ids, start=1):
        group = get_group(session, int(group_id))
        group.position = position
        session.add(group)
        for strategy in session.exec(select(Strategy).where(Strategy.group_id == group.id)):
            strategy.updated_at = now
            session.add(strategy)
    session.flush()
