"""menu_roles (issue 14): 功能注册's menu overrides, and the 工作台 family permissions for
existing roles.

- menu_override / menu_revision: an admin's reorderings, renames and hidings of the console menu
  (crm/people/menu_models.py); an empty table is the built-in menu.
- 工作台 is now governed per template family (rules/templates/families.py): every existing role
  that held strategies.view gets the three families' .view, every one that held
  strategies.manage their .manage — so 运营, 只读 and custom roles keep exactly what they could do.
  The seed-002 roles (项目主理人 … 客服) are created at start by ensure_builtin_roles.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 17:45:00
"""
import json

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

FAMILIES = ("workbench_content", "workbench_community", "workbench_traffic")


def upgrade() -> None:
    op.create_table(
        "menu_override",
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("updated_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "menu_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    conn = op.get_bind()
    conn.execute(sa.text("INSERT INTO menu_revision (id, revision) VALUES (1, 0)"))
    role = sa.table("role", sa.column("id", sa.Integer), sa.column("permissions", sa.JSON))
    for row in conn.execute(sa.select(role.c.id, role.c.permissions)).all():
        current = row.permissions if isinstance(row.permissions, list) else json.loads(row.permissions or "[]")
        wanted = set(current)
        for action in ("view", "manage"):
            if f"strategies.{action}" in wanted:
                wanted |= {f"{family}.{action}" for family in FAMILIES}
        if wanted != set(current):
            conn.execute(role.update().where(role.c.id == row.id).values(permissions=sorted(wanted)))


def downgrade() -> None:
    op.drop_table("menu_revision")
    op.drop_table("menu_override")
    # Granted permissions are kept: removing them could take away what an admin granted by hand since.
