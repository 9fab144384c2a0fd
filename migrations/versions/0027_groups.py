"""group activity, alerts and the group broadcast API (part 'groups'): daily rollups, alert rules and
episodes, group tags, broadcasts and their targets; chat_group_member.joined_via_sync (members first seen
by a full sync are not joins).

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 14:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('community_group_tag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'name', name='uq_community_group_tag')
    )
    with op.batch_alter_table('community_group_tag', schema=None) as batch_op:
        batch_op.create_index('ix_community_group_tag_name', ['name'], unique=False)
    op.create_table('group_activity_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('speakers', sa.Integer(), nullable=False),
    sa.Column('joins', sa.Integer(), nullable=False),
    sa.Column('quits', sa.Integer(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('last_message_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'day', name='uq_group_activity_day')
    )
    with op.batch_alter_table('group_activity_day', schema=None) as batch_op:
        batch_op.create_index('ix_group_activity_day_day', ['day'], unique=False)
    op.create_table('group_activity_mark',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('group_alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('figures', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('event_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('opened_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('group_alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_alert_group_id'), ['group_id'], unique=False)
        batch_op.create_index('ix_group_alert_open', ['rule_id', 'group_id', 'status'], unique=False)
        batch_op.create_index('ix_group_alert_opened', ['opened_at'], unique=False)
    op.create_table('group_alert_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('group_alert_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_alert_rule_group_id'), ['group_id'], unique=False)
    op.create_table('group_broadcast',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('msg_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('content', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('scheduled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('deadline_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('retries', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('group_broadcast', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_broadcast_status'), ['status'], unique=False)
    op.create_table('group_broadcast_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('group_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('command_id', sa.Integer(), nullable=True),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('delivered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('broadcast_id', 'group_id', name='uq_group_broadcast_target')
    )
    with op.batch_alter_table('group_broadcast_target', schema=None) as batch_op:
        batch_op.create_index('ix_group_broadcast_target_state', ['broadcast_id', 'state'], unique=False)
    op.create_table('group_speaker_day',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sender_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sender_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', 'day', 'sender_id', name='uq_group_speaker_day')
    )
    with op.batch_alter_table('group_speaker_day', schema=None) as batch_op:
        batch_op.create_index('ix_group_speaker_day_day', ['day'], unique=False)
    with op.batch_alter_table('chat_group_member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('joined_via_sync', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('chat_group_member', schema=None) as batch_op:
        batch_op.drop_column('joined_via_sync')
    with op.batch_alter_table('group_speaker_day', schema=None) as batch_op:
        batch_op.drop_index('ix_group_speaker_day_day')
    op.drop_table('group_speaker_day')
    with op.batch_alter_table('group_broadcast_target', schema=None) as batch_op:
        batch_op.drop_index('ix_group_broadcast_target_state')
    op.drop_table('group_broadcast_target')
    with op.batch_alter_table('group_broadcast', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_broadcast_status'))
    op.drop_table('group_broadcast')
    with op.batch_alter_table('group_alert_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_alert_rule_group_id'))
    op.drop_table('group_alert_rule')
    with op.batch_alter_table('group_alert', schema=None) as batch_op:
        batch_op.drop_index('ix_group_alert_opened')
        batch_op.drop_index('ix_group_alert_open')
        batch_op.drop_index(batch_op.f('ix_group_alert_group_id'))
    op.drop_table('group_alert')
    op.drop_table('group_activity_mark')
    with op.batch_alter_table('group_activity_day', schema=None) as batch_op:
        batch_op.drop_index('ix_group_activity_day_day')
    op.drop_table('group_activity_day')
    with op.batch_alter_table('community_group_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_community_group_tag_name')
    op.drop_table('community_group_tag')
    # ### end Alembic commands ###
