"""ledger durability: per-attempt state and worker, cron run records

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 08:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('step_attempt', schema=None) as batch_op:
        # Existing rows are finished attempts: failed unless ok (set just below).
        batch_op.add_column(sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False,
                                      server_default='failed'))
        batch_op.add_column(sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                      server_default=''))
    op.execute(sa.text("UPDATE step_attempt SET state = 'ok' WHERE ok"))
    op.create_table('cron_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('job_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('slot_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('finished_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('worker', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('cron_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cron_run_job_key'), ['job_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_cron_run_slot_at'), ['slot_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cron_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cron_run_slot_at'))
        batch_op.drop_index(batch_op.f('ix_cron_run_job_key'))
    op.drop_table('cron_run')
    with op.batch_alter_table('step_attempt', schema=None) as batch_op:
        batch_op.drop_column('worker')
        batch_op.drop_column('state')
