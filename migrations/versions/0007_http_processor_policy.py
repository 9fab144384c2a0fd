"""http processor policy

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 08:40:00
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Per-processor retry schedule and the reason the server disabled a processor (410 Gone).
    with op.batch_alter_table("processor_definition") as batch:
        batch.add_column(sa.Column("retry_schedule", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("disabled_reason", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("processor_definition") as batch:
        batch.drop_column("disabled_reason")
        batch.drop_column("retry_schedule")
