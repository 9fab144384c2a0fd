"""dashboards: customer_score (per-customer lifecycle and RFM facts), rfm_run (scoring passes with their
snapshot), and an index on metric_daily (metric, dim, day) for the range reads of reports and dashboards.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 11:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('metric_daily', schema=None) as batch_op:
        batch_op.create_index('ix_metric_daily_metric_dim_day', ['metric', 'dim', 'day'], unique=False)

    op.create_table('customer_score',
    sa.Column('customer_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('first_contact_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('contact_month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('scene_id', sa.Integer(), nullable=True),
    sa.Column('first_order_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('second_order_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_order_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('order_count', sa.Integer(), nullable=False),
    sa.Column('monetary_fen', sa.BigInteger(), nullable=False),
    sa.Column('recency_days', sa.Integer(), nullable=True),
    sa.Column('r_score', sa.Integer(), nullable=False),
    sa.Column('f_score', sa.Integer(), nullable=False),
    sa.Column('m_score', sa.Integer(), nullable=False),
    sa.Column('segment', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('computed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id')
    )
    with op.batch_alter_table('customer_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_score_contact_month'), ['contact_month'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_score_first_contact_at'), ['first_contact_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_score_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_score_scene_id'), ['scene_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_score_segment'), ['segment'], unique=False)

    op.create_table('rfm_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('customers', sa.Integer(), nullable=False),
    sa.Column('buyers', sa.Integer(), nullable=False),
    sa.Column('cuts', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('triggered_by', sa.Integer(), nullable=True),
    sa.Column('snapshot', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rfm_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rfm_run_computed_at'), ['computed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('rfm_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rfm_run_computed_at'))
    op.drop_table('rfm_run')
    with op.batch_alter_table('customer_score', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_score_segment'))
        batch_op.drop_index(batch_op.f('ix_customer_score_scene_id'))
        batch_op.drop_index(batch_op.f('ix_customer_score_channel_id'))
        batch_op.drop_index(batch_op.f('ix_customer_score_first_contact_at'))
        batch_op.drop_index(batch_op.f('ix_customer_score_contact_month'))
    op.drop_table('customer_score')
    with op.batch_alter_table('metric_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_metric_daily_metric_dim_day')
