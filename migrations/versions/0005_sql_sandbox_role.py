"""sql sandbox role: the SELECT-only PostgreSQL role 自定义SQL logs in as (`ckb_sandbox`).

Created here when the migrating role may create roles (superuser or CREATEROLE); otherwise the
migration logs the SQL for a DBA to run (README「自定义SQL 的只读账号」). It may log in (no
password is set here: set one and CKB_SQL_SANDBOX_DATABASE_URL where authentication needs it)
and may SELECT the customer-side tables of this schema, nothing else. Role settings are
backstops only; the application sets the configured statement_timeout on each run. SQLite needs
nothing (its sandbox is a read-only connection with an authorizer).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 08:40:00
"""
import logging

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

ROLE = "ckb_sandbox"
# Frozen copy of crm.customers.sql_sandbox_rules.READABLE_TABLES as of this revision.
TABLES = ("customer", "company", "customer_tag", "tag", "tag_category", "group_link", "customer_group",
          "group_member", "follow_up", "sales_task", "growth_record", "custom_field", "enum_type")
log = logging.getLogger("alembic.runtime.migration")


def _grants(schema: str) -> list[str]:
    return [f'GRANT USAGE ON SCHEMA "{schema}" TO {ROLE}',
            f"GRANT SELECT ON {', '.join(TABLES)} TO {ROLE}"]


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.execute(sa.text("SELECT current_schema()")).scalar()
    exists = bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}).scalar()
    superuser, may_create = bind.execute(sa.text(
        "SELECT rolsuper, rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).one()
    create = [f"CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION",
              f"ALTER ROLE {ROLE} SET statement_timeout = '60s'",
              f"ALTER ROLE {ROLE} SET default_transaction_read_only = on"]
    if superuser or not may_create:  # temp_file_limit is a superuser setting
        create.append(f"ALTER ROLE {ROLE} SET temp_file_limit = '1GB'")
    if not exists and not may_create:
        log.warning("自定义SQL 只读账号 %s 未创建（当前数据库账号无 CREATEROLE 权限）。请由管理员执行：\n%s;",
                    ROLE, ";\n".join(create + _grants(schema)))
        return
    if not exists:
        for statement in create:
            op.execute(statement)
    for statement in _grants(schema):
        op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if bind.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": ROLE}).scalar():
        schema = bind.execute(sa.text("SELECT current_schema()")).scalar()
        op.execute(f"REVOKE SELECT ON {', '.join(TABLES)} FROM {ROLE}")
        op.execute(f'REVOKE USAGE ON SCHEMA "{schema}" FROM {ROLE}')
