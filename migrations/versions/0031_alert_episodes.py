"""alert episodes: one row per watched condition and subject (events/episodes.py), so an alert is raised
once per episode.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 14:30:40.667004
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('episodes', sa.Integer(), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_value', sa.Float(), nullable=False),
    sa.Column('last_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key', 'subject', name='uq_alert_state_subject')
    )


def downgrade() -> None:
    op.drop_table('alert_state')
