"""orders flow: existing 付款码 / 订单获客 scenes get the 线索·生成订单 step.

New PAYMENT_CODE and ORDER_SYNC scenes are created with 识别客户 → 打标签 → 分配 → 生成订单 → 自动回复
(rules/templates/lead_pipeline.py). This data migration adds the `lead.order` step, right after
`lead.assign` (or at the end when an operator removed it), to the pipeline strategy of every such
scene created before, unless it already has one; the strategy's version goes up by one and the
change is a saved version (策略版本) saying why. No table changes: the order tables are 0014's.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 11:40:00
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
ORDER_SCENE_TYPES = ("PAYMENT_CODE", "ORDER_SYNC")
STEP = {"processor": "lead.order", "config": {}, "timing": {"mode": "immediate"}}
SNAPSHOT_FIELDS = ("name", "group_id", "event_id", "starts_at", "ends_at", "conditions", "steps", "remark")
SUMMARY = "系统升级：加入「线索·生成订单」（付款与平台订单生成订单）"


def _with_order_step(steps: list) -> list:
    keys = [s.get("processor") if isinstance(s, dict) else None for s in steps]
    at = keys.index("lead.assign") + 1 if "lead.assign" in keys else len(steps)
    return steps[:at] + [dict(STEP)] + steps[at:]


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


def upgrade() -> None:
    conn = op.get_bind()
    scene = sa.table("lead_scene", sa.column("scene_type"), sa.column("strategy_id"))
    strategy = sa.table("strategy", *(sa.column(c) for c in ("id", "name", "group_id", "event_id", "starts_at", "ends_at",
                                                             "remark", "version", "updated_at")),
                        sa.column("conditions", JSON), sa.column("steps", JSON))
    version = sa.table("strategy_version", sa.column("strategy_id"), sa.column("version"), sa.column("snapshot", JSON),
                       sa.column("changed_by"), sa.column("changed_at"), sa.column("summary"))
    ids = [sid for (sid,) in conn.execute(sa.select(scene.c.strategy_id).where(
        scene.c.scene_type.in_(ORDER_SCENE_TYPES), scene.c.strategy_id.is_not(None))).all()]
    now = datetime.now(timezone.utc)
    for row in conn.execute(sa.select(strategy).where(strategy.c.id.in_(ids))).mappings().all() if ids else []:
        steps = list(row["steps"] or [])
        if any(isinstance(s, dict) and s.get("processor") == "lead.order" for s in steps):
            continue
        steps = _with_order_step(steps)
        conn.execute(strategy.update().where(strategy.c.id == row["id"]).values(
            steps=steps, version=row["version"] + 1, updated_at=now))
        snapshot = {k: _jsonable(row[k]) for k in SNAPSHOT_FIELDS} | {"steps": steps}
        conn.execute(version.insert().values(strategy_id=row["id"], version=row["version"] + 1, snapshot=snapshot,
                                             changed_by="migration", changed_at=now, summary=SUMMARY))


def downgrade() -> None:
    pass  # the step stays: removing it would silently stop payments becoming orders
