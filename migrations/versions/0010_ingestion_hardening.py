"""ingestion hardening

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 08:40:00
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Idempotency-Key follows Stripe's contract: the first request's fingerprint is kept, so the
    # same key with a different request is refused instead of answered with the first reply.
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fingerprint', sa.String(length=64), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.drop_column('fingerprint')
