"""seed001 (issue 14): message templates whose variables come from an event (变量来源事件), tags
with several rules, and tags on products and companies.

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-07 17:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message_template") as batch:
        batch.add_column(sa.Column("event_code", sa.String(length=64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("message_template") as batch:
        batch.drop_column("event_code")
