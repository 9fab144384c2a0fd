"""alert episodes and 抖音授权: douyin_account (authorised 抖音号 of a scene, tokens sealed); alert_state, one row per watched condition and subject (events/episodes.py), so an alert is raised
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

    op.create_table('douyin_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scene_id', sa.Integer(), nullable=False),
    sa.Column('open_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('nickname', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('avatar', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('scopes', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('access_token_sealed', sa.Text(), nullable=False),
    sa.Column('refresh_token_sealed', sa.Text(), nullable=False),
    sa.Column('access_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('refresh_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('fans_cursor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('authorised_by', sa.Integer(), nullable=True),
    sa.Column('authorised_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('refreshed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['scene_id'], ['lead_scene.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scene_id', 'open_id', name='uq_douyin_account_scene_open_id')
    )
    with op.batch_alter_table('douyin_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_douyin_account_scene_id'), ['scene_id'], unique=False)


def downgrade() -> None:
    op.drop_table('douyin_account')
    op.drop_table('alert_state')
