"""alert episodes, 抖音授权 and 电话获客 outbound (call_task, call_target, call_record, call_do_not_call,
call_recording_access): douyin_account (authorised 抖音号 of a scene, tokens sealed); alert_state, one row per watched condition and subject (events/episodes.py), so an alert is raised
once per episode.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 14:30:40.667004
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql


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

    op.create_table('call_do_not_call',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobile', sa.Text(), nullable=True),
    sa.Column('mobile_bidx', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('mobile_tail_bidx', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mobile_bidx')
    )
    op.create_table('call_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('seat_user_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('mobile', sa.Text(), nullable=True),
    sa.Column('mobile_bidx', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('mobile_tail_bidx', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=False),
    sa.Column('intent', sqlmodel.sql.sqltypes.AutoString(length=4), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('recording_url', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('recording_path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('recording_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('recording_size', sa.Integer(), nullable=False),
    sa.Column('recording_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('call_id')
    )
    with op.batch_alter_table('call_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_record_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_mobile_bidx'), ['mobile_bidx'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_seat_user_id'), ['seat_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_target_id'), ['target_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_record_task_id'), ['task_id'], unique=False)

    op.create_table('call_recording_access',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('call_recording_access', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_recording_access_record_id'), ['record_id'], unique=False)

    op.create_table('call_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('filters', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('seat_user_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('window', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('retry_minutes', sa.Integer(), nullable=False),
    sa.Column('retry_on', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('script', sa.Text(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('call_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('mobile', sa.Text(), nullable=True),
    sa.Column('mobile_bidx', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('mobile_tail_bidx', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_result', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['call_task.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('task_id', 'mobile_bidx', name='uq_call_target_number')
    )
    with op.batch_alter_table('call_target', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_target_mobile_bidx'), ['mobile_bidx'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_target_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_target_task_id'), ['task_id'], unique=False)



def downgrade() -> None:
    for table in ('call_recording_access', 'call_do_not_call', 'call_record', 'call_target', 'call_task'):
        op.drop_table(table)
    op.drop_table('douyin_account')
    op.drop_table('alert_state')
