"""role permissions for 商品与订单 and 数据中心: existing built-in roles get this release's grants.

New installs create the built-in roles with them (crm/people/permissions.py), and the admin role is
re-synced at every start, but 运营, 只读, 业务员 and 部门经理 keep what they were saved with — so on an
upgraded database a 业务员 would have no 订单 menu and no 工作台 figures. This adds to each existing
built-in role exactly the new permissions it would have on a fresh install (never removing any, and
never touching custom roles).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 12:55:00
"""
import json

from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

NEW = {"products.view", "products.manage", "stock.manage", "orders.view", "orders.view_all", "orders.manage",
       "orders.refund", "reports.view", "reports.view_department", "reports.view_all", "reports.targets",
       "dashboards.view", "monitor.view", "home.defaults"}
GRANTS = {
    "operator": NEW,
    "viewer": {p for p in NEW if p.endswith(".view")},
    "sales": {"products.view", "orders.view", "orders.manage", "reports.view"},
    "manager": {"products.view", "orders.view", "orders.manage", "orders.refund", "reports.view",
                "reports.view_department", "reports.targets", "dashboards.view"},
}


def upgrade() -> None:
    conn = op.get_bind()
    role = sa.table("role", sa.column("id", sa.Integer), sa.column("code", sa.String),
                    sa.column("permissions", sa.JSON), sa.column("builtin", sa.Boolean))
    for row in conn.execute(sa.select(role.c.id, role.c.code, role.c.permissions)
                            .where(role.c.builtin == sa.true(), role.c.code.in_(list(GRANTS)))).all():
        current = row.permissions if isinstance(row.permissions, list) else json.loads(row.permissions or "[]")
        wanted = sorted(set(current) | GRANTS[row.code])
        if wanted != sorted(current):
            conn.execute(role.update().where(role.c.id == row.id).values(permissions=wanted))


def downgrade() -> None:
    pass  # grants are kept: removing them could take away what an admin granted by hand since
