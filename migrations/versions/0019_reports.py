"""reports: 周复盘 storage (weekly_review) and the time indexes the daily rollups read by
(event_record by code and occurrence, device_command by finish, friends by added, group members by
joined/left).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 11:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_event_record_code_occurred", "event_record", ["event_code", "occurred_at"]),
    ("ix_device_command_finished", "device_command", ["finished_at"]),
    ("ix_friend_added", "wechat_friend", ["added_at"]),
    ("ix_chat_group_member_joined", "chat_group_member", ["joined_at"]),
    ("ix_chat_group_member_left", "chat_group_member", ["left_at"]),
]


def upgrade() -> None:
    op.create_table(
        'weekly_review',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dim', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column('dim_id', sa.Integer(), nullable=False),
        sa.Column('iso_year', sa.Integer(), nullable=False),
        sa.Column('iso_week', sa.Integer(), nullable=False),
        sa.Column('goals', sa.Text(), nullable=False),
        sa.Column('process', sa.Text(), nullable=False),
        sa.Column('reflection', sa.Text(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('actions', sa.Text(), nullable=False),
        sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'),
                  nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('saved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dim', 'dim_id', 'iso_year', 'iso_week', name='uq_weekly_review'),
    )
    for name, table, columns in INDEXES:
        with op.batch_alter_table(table) as batch:
            batch.create_index(name, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(name)
    op.drop_table('weekly_review')
