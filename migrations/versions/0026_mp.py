"""公众号 integration: authorised accounts (mp_account, AppSecret sealed), fans (mp_fan) and
callback counters (mp_callback_count).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 14:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mp_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('appid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('secret_sealed', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('token', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('aes_key', sqlmodel.sql.sqltypes.AutoString(length=43), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('callback_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('default_user_id', sa.Integer(), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('access_token_sealed', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('access_token_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_callback_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_sync_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('appid'),
    sa.UniqueConstraint('callback_key')
    )
    with op.batch_alter_table('mp_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mp_account_default_user_id'), ['default_user_id'], unique=False)

    op.create_table('mp_callback_count',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('last_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'outcome', name='uq_mp_callback_count')
    )
    with op.batch_alter_table('mp_callback_count', schema=None) as batch_op:
        batch_op.create_index('ix_mp_callback_count_account', ['account_id'], unique=False)

    op.create_table('mp_fan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('openid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('unionid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('nickname', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('remark', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('subscribed', sa.Boolean(), nullable=False),
    sa.Column('subscribed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('unsubscribed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('subscribe_scene', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('bound_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('synced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'openid', name='uq_mp_fan_openid')
    )
    with op.batch_alter_table('mp_fan', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mp_fan_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mp_fan_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mp_fan_unionid'), ['unionid'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mp_fan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mp_fan_unionid'))
        batch_op.drop_index(batch_op.f('ix_mp_fan_customer_id'))
        batch_op.drop_index(batch_op.f('ix_mp_fan_account_id'))
    op.drop_table('mp_fan')
    with op.batch_alter_table('mp_callback_count', schema=None) as batch_op:
        batch_op.drop_index('ix_mp_callback_count_account')
    op.drop_table('mp_callback_count')
    with op.batch_alter_table('mp_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mp_account_default_user_id'))
    op.drop_table('mp_account')

