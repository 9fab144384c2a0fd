"""logs (issue 14): 登录日志 (login_log), 操作日志 (operation_log: one row per object a write request
changed, with masked before/after), 异常日志 (error_log: unhandled errors under the reference id
the user saw).

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-07 17:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql


revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('error_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('endpoint', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('exc_type', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('message', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('stack', sqlmodel.sql.sqltypes.AutoString(length=60000), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_error_log_created_at'), 'error_log', ['created_at'], unique=False)
    op.create_index(op.f('ix_error_log_endpoint'), 'error_log', ['endpoint'], unique=False)
    op.create_index(op.f('ix_error_log_exc_type'), 'error_log', ['exc_type'], unique=False)
    op.create_index(op.f('ix_error_log_reference'), 'error_log', ['reference'], unique=True)
    op.create_index(op.f('ix_error_log_user_id'), 'error_log', ['user_id'], unique=False)
    op.create_table('login_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=150), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_login_log_created_at'), 'login_log', ['created_at'], unique=False)
    op.create_index(op.f('ix_login_log_ip'), 'login_log', ['ip'], unique=False)
    op.create_index(op.f('ix_login_log_result'), 'login_log', ['result'], unique=False)
    op.create_index(op.f('ix_login_log_user_id'), 'login_log', ['user_id'], unique=False)
    op.create_index(op.f('ix_login_log_username'), 'login_log', ['username'], unique=False)
    op.create_table('operation_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('via', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('endpoint', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('table_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('object_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('changes', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('rowcount', sa.Integer(), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_operation_log_created_at'), 'operation_log', ['created_at'], unique=False)
    op.create_index('ix_operation_log_object', 'operation_log', ['table_name', 'object_id'], unique=False)
    op.create_index(op.f('ix_operation_log_request_id'), 'operation_log', ['request_id'], unique=False)
    op.create_index(op.f('ix_operation_log_user_id'), 'operation_log', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_operation_log_object', table_name='operation_log')
    for table, columns in (('operation_log', ('user_id', 'request_id', 'created_at')),
                           ('login_log', ('username', 'user_id', 'result', 'ip', 'created_at')),
                           ('error_log', ('user_id', 'reference', 'exc_type', 'endpoint', 'created_at'))):
        for column in columns:
            op.drop_index(op.f(f'ix_{table}_{column}'), table_name=table)
        op.drop_table(table)
