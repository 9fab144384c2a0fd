"""event order devices

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 08:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # events/ordering.py: when the change that set each piece of state happened.
    op.create_table(
        'state_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('object_id', sa.Integer(), nullable=False),
        sa.Column('attribute', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column('occurred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('event_record_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('kind', 'object_id', 'attribute', name='uq_state_version'),
    )


def downgrade() -> None:
    op.drop_table('state_version')
