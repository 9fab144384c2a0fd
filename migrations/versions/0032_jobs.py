"""jobs (issue 14): 任务调度 and 定时任务注册 — cron_schedule (a job's stored schedule and on/off),
cron_custom_job (jobs an admin registered), cron_run_request (立即执行, one live request per job
through the unique active_key), cron_config_version (the counter schedulers watch), and who
started each cron_run (trigger, requested_by).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-07 17:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql


revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cron_schedule',
    sa.Column('job_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('schedule', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('job_key')
    )
    op.create_table('cron_custom_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('target', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('remark', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('cron_run_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('active_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('requested_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('claimed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('active_key')
    )
    with op.batch_alter_table('cron_run_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cron_run_request_job_key'), ['job_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_cron_run_request_status'), ['status'], unique=False)
    op.create_table('cron_config_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cron_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trigger', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='schedule'))
        batch_op.add_column(sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('cron_run', schema=None) as batch_op:
        batch_op.drop_column('requested_by')
        batch_op.drop_column('trigger')
    op.drop_table('cron_config_version')
    with op.batch_alter_table('cron_run_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cron_run_request_status'))
        batch_op.drop_index(batch_op.f('ix_cron_run_request_job_key'))
    op.drop_table('cron_run_request')
    op.drop_table('cron_custom_job')
    op.drop_table('cron_schedule')
