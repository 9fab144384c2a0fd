"""params (issue 14): 参数配置 — parameter_value (a value saved in the console, overriding the
environment; secrets sealed) and parameter_change (who changed which parameter when, old → new;
secrets logged as 已修改; its highest id is the version other processes poll).

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 17:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('parameter_value',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('parameter_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('changed_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('changed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('parameter_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_parameter_change_changed_at'), ['changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_parameter_change_key'), ['key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('parameter_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_parameter_change_key'))
        batch_op.drop_index(batch_op.f('ix_parameter_change_changed_at'))
    op.drop_table('parameter_change')
    op.drop_table('parameter_value')
