"""Strategy versions: every save is a snapshot (who, when, what changed); diff and roll back."""
from __future__ import annotations

import json
from datetime import datetime

from sqlmodel import Session, select

from rules.errors import NotFound
from rules.models import Strategy, StrategyVersion

# Labels for the diff view, in the order the console shows them.
SNAPSHOT_FIELDS = {
    "name": "策略名", "group_id": "策略组", "event_id": "事件", "starts_at": "生效时间",
    "ends_at": "失效时间", "conditions": "条件", "steps": "执行操作", "remark": "备注",
}


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def snapshot(strategy: Strategy) -> dict:
    return {key: _jsonable(getattr(strategy, key)) for key in SNAPSHOT_FIELDS}


def diff(before: dict, after: dict) -> list[dict]:
    """Field-level changes between two snapshots, each with its Chinese label."""
    changes = []
    for key, label in SNAPSHOT_FIELDS.items():
        a, b = before.get(key), after.get(key)
        if json.dumps(a, sort_keys=True, ensure_ascii=False) != json.dumps(b, sort_keys=True, ensure_ascii=False):
            changes.append({"field": key, "label": label, "before": a, "after": b})
    return changes


def record_version(session: Session, strategy: Strategy, changed_by: str, previous: dict | None, summary: str = "") -> StrategyVersion:
    snap = snapshot(strategy)
    if not summary:
        summary = "创建策略" if previous is None else "修改：" + "、".join(c["label"] for c in diff(previous, snap)) or "无内容变化"
    version = StrategyVersion(strategy_id=strategy.id, version=strategy.version, snapshot=snap,
                              changed_by=changed_by, summary=summary[:500])
    session.add(version)
    session.flush()
    return version


def list_versions(session: Session, strategy_id: int) -> list[StrategyVersion]:
    return list(session.exec(select(StrategyVersion).where(StrategyVersion.strategy_id == strategy_id)
                             .order_by(StrategyVersion.version.desc())))


def get_version(session: Session, strategy_id: int, version: int) -> StrategyVersion:
    row = session.exec(select(StrategyVersion).where(StrategyVersion.strategy_id == strategy_id,
                                                     StrategyVersion.version == version)).first()
    if row is None:
        raise NotFound(f"策略 {strategy_id} 没有版本 {version}")
    return row
