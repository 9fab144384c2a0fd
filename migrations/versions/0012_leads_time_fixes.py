"""leads time fixes: one naming style for CRM event fields (snake_case); webhook rejection hits.

crm.customer_created was the only CRM event with camelCase fields (customerId, customerName,
ownerId, createdAt, operatorId); every other CRM, lead and device event is snake_case. This data
migration renames them in the event definition, in the conditions and processor placeholders
(${customerName} → ${customer_name}) of the strategies on that event and their saved versions,
and in events of that kind still waiting for dispatch (their old keys are kept beside the new
ones). Steps already planned keep their own copy of the config and the old event data, which
still agree, so they run unchanged.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 08:40:00
"""
import re

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

EVENT_CODE = "crm.customer_created"
RENAMES = {"customerId": "customer_id", "customerName": "customer_name", "ownerId": "owner_id",
           "createdAt": "created_at", "operatorId": "operator_id"}
JSON = sa.JSON().with_variant(JSONB(), "postgresql")
_PLACEHOLDER = re.compile(r"\$\{.*?\}", re.S)


def _name_pattern(names):
    # a bare variable name inside ${…}: not an attribute (.x), not inside a quoted string
    return re.compile(r"(?<![\w.'\"])(" + "|".join(map(re.escape, names)) + r")(?![\w'\"])")


def rename_placeholders(value, renames):
    """Every string inside `value` with the old names inside ${…} replaced."""
    if isinstance(value, str):
        names = _name_pattern(renames)
        return _PLACEHOLDER.sub(lambda m: names.sub(lambda n: renames[n.group(1)], m.group(0)), value)
    if isinstance(value, dict):
        return {k: rename_placeholders(v, renames) for k, v in value.items()}
    if isinstance(value, list):
        return [rename_placeholders(v, renames) for v in value]
    return value


def rename_conditions(rows, renames):
    return [{**row, "field": renames.get(row.get("field"), row.get("field"))} if isinstance(row, dict) else row
            for row in (rows or [])]


def rename_steps(steps, renames):
    return [{**step, "config": rename_placeholders(step.get("config") or {}, renames)} if isinstance(step, dict)
            else step for step in (steps or [])]


def _migrate(renames) -> None:
    conn = op.get_bind()
    definition = sa.table("event_definition", sa.column("id"), sa.column("code"), sa.column("fields", JSON))
    strategy = sa.table("strategy", sa.column("id"), sa.column("event_id"), sa.column("conditions", JSON),
                        sa.column("steps", JSON))
    version = sa.table("strategy_version", sa.column("id"), sa.column("strategy_id"), sa.column("snapshot", JSON))
    record = sa.table("event_record", sa.column("id"), sa.column("event_code"), sa.column("dispatch_status"),
                      sa.column("data", JSON))
    for def_id, fields in conn.execute(sa.select(definition.c.id, definition.c.fields)
                                       .where(definition.c.code == EVENT_CODE)).all():
        new_fields = [{**f, "name": renames.get(f.get("name"), f.get("name"))} for f in fields or []]
        conn.execute(definition.update().where(definition.c.id == def_id).values(fields=new_fields))
        for sid, conditions, steps in conn.execute(sa.select(strategy.c.id, strategy.c.conditions, strategy.c.steps)
                                                   .where(strategy.c.event_id == def_id)).all():
            conn.execute(strategy.update().where(strategy.c.id == sid).values(
                conditions=rename_conditions(conditions, renames), steps=rename_steps(steps, renames)))
        # a saved version counts by the event it was saved with (a strategy may have changed event since)
        for vid, snap in conn.execute(sa.select(version.c.id, version.c.snapshot)).all():
            if isinstance(snap, dict) and snap.get("event_id") == def_id:
                snap = {**snap, "conditions": rename_conditions(snap.get("conditions"), renames),
                        "steps": rename_steps(snap.get("steps"), renames)}
                conn.execute(version.update().where(version.c.id == vid).values(snapshot=snap))
    for rid, data in conn.execute(sa.select(record.c.id, record.c.data).where(
            record.c.event_code == EVENT_CODE, record.c.dispatch_status == "pending")).all():
        data = dict(data or {})
        data.update({new: data[old] for old, new in renames.items() if old in data})
        conn.execute(record.update().where(record.c.id == rid).values(data=data))


def upgrade() -> None:
    # 被拒绝的回调: a rate-limit row counts every refused call of its window.
    with op.batch_alter_table("lead_webhook_rejection") as batch:
        batch.add_column(sa.Column("hits", sa.Integer(), nullable=False, server_default="1"))
    _migrate(RENAMES)


def downgrade() -> None:
    _migrate({new: old for old, new in RENAMES.items()})
    with op.batch_alter_table("lead_webhook_rejection") as batch:
        batch.drop_column("hits")
