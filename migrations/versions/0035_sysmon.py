"""系统监控 (issue 14): process_heartbeat, one row per running server process (web, worker,
scheduler), refreshed by its beacon; /readyz and 系统监控 read it.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 17:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql


revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('process_heartbeat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('roles', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('beat_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('interval_seconds', sa.Float(), nullable=False),
    sa.Column('is_leader', sa.Boolean(), nullable=False),
    sa.Column('info', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('stopped_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('owner')
    )
    with op.batch_alter_table('process_heartbeat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_process_heartbeat_beat_at'), ['beat_at'], unique=False)


def downgrade() -> None:
    op.drop_table('process_heartbeat')
