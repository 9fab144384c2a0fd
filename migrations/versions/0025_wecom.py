"""企业微信: corp authorisation (secrets sealed), department/member/tag mappings, external contacts
linked to customers, group chats, the callback log and the replay guard; an index on
wechat_friend.wxid so the sidebar finds a customer by WeChat wxid in one indexed query.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 14:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('wecom_corp',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corp_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('agent_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('contact_secret', sa.Text(), nullable=False),
    sa.Column('app_secret', sa.Text(), nullable=False),
    sa.Column('callback_token', sa.Text(), nullable=False),
    sa.Column('encoding_aes_key', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('sync_status', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('corp_id')
    )
    op.create_table('wecom_callback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corp_pk', sa.Integer(), nullable=False),
    sa.Column('accepted', sa.Boolean(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('event', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('change_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['corp_pk'], ['wecom_corp.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('wecom_callback', schema=None) as batch_op:
        batch_op.create_index('ix_wecom_callback_corp_at', ['corp_pk', 'received_at'], unique=False)

    op.create_table('wecom_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corp_pk', sa.Integer(), nullable=False),
    sa.Column('external_userid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('unionid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('type', sa.Integer(), nullable=False),
    sa.Column('gender', sa.Integer(), nullable=False),
    sa.Column('corp_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('follow_users', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('linked_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('deleted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('synced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['corp_pk'], ['wecom_corp.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('corp_pk', 'external_userid', name='uq_wecom_contact')
    )
    with op.batch_alter_table('wecom_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_contact_corp_pk'), ['corp_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_wecom_contact_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_wecom_contact_external', ['external_userid'], unique=False)
        batch_op.create_index(batch_op.f('ix_wecom_contact_unionid'), ['unionid'], unique=False)

    op.create_table('wecom_department',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corp_pk', sa.Integer(), nullable=False),
    sa.Column('wecom_id', sa.Integer(), nullable=False),
    sa.Column('parent_wecom_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('synced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['corp_pk'], ['wecom_corp.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('corp_pk', 'wecom_id', name='uq_wecom_department')
    )
    with op.batch_alter_table('wecom_department', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_department_corp_pk'), ['corp_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_wecom_department_department_id'), ['department_id'], unique=False)

    op.create_table('wecom_group_chat',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corp_pk', sa.Integer(), nullable=False),
    sa.Column('chat_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('owner_userid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('notice', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('members', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('dismissed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('synced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['corp_pk'], ['wecom_corp.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('corp_pk', 'chat_id', name='uq_wecom_group_chat')
    )
    with op.batch_alter_table('wecom_group_chat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_group_chat_corp_pk'), ['corp_pk'], unique=False)

    op.create_table('wecom_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corp_pk', sa.Integer(), nullable=False),
    sa.Column('userid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('departments', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('matched_by', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('synced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['corp_pk'], ['wecom_corp.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('corp_pk', 'userid', name='uq_wecom_member')
    )
    with op.batch_alter_table('wecom_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_member_corp_pk'), ['corp_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_wecom_member_user_id'), ['user_id'], unique=False)

    op.create_table('wecom_nonce',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corp_pk', sa.Integer(), nullable=False),
    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('timestamp', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['corp_pk'], ['wecom_corp.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('corp_pk', 'nonce', 'timestamp', name='uq_wecom_nonce')
    )
    with op.batch_alter_table('wecom_nonce', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_nonce_received_at'), ['received_at'], unique=False)

    op.create_table('wecom_tag_map',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('corp_pk', sa.Integer(), nullable=False),
    sa.Column('wecom_tag_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('wecom_group_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('group_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=True),
    sa.Column('removed', sa.Boolean(), nullable=False),
    sa.Column('synced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['corp_pk'], ['wecom_corp.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('corp_pk', 'wecom_tag_id', name='uq_wecom_tag')
    )
    with op.batch_alter_table('wecom_tag_map', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wecom_tag_map_corp_pk'), ['corp_pk'], unique=False)
        batch_op.create_index(batch_op.f('ix_wecom_tag_map_tag_id'), ['tag_id'], unique=False)

    with op.batch_alter_table('wechat_friend', schema=None) as batch_op:
        batch_op.create_index('ix_friend_wxid', ['wxid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('wechat_friend', schema=None) as batch_op:
        batch_op.drop_index('ix_friend_wxid')
    with op.batch_alter_table('wecom_tag_map', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_tag_map_tag_id'))
        batch_op.drop_index(batch_op.f('ix_wecom_tag_map_corp_pk'))

    op.drop_table('wecom_tag_map')
    with op.batch_alter_table('wecom_nonce', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_nonce_received_at'))

    op.drop_table('wecom_nonce')
    with op.batch_alter_table('wecom_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_wecom_member_corp_pk'))

    op.drop_table('wecom_member')
    with op.batch_alter_table('wecom_group_chat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_group_chat_corp_pk'))

    op.drop_table('wecom_group_chat')
    with op.batch_alter_table('wecom_department', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_department_department_id'))
        batch_op.drop_index(batch_op.f('ix_wecom_department_corp_pk'))

    op.drop_table('wecom_department')
    with op.batch_alter_table('wecom_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wecom_contact_unionid'))
        batch_op.drop_index('ix_wecom_contact_external')
        batch_op.drop_index(batch_op.f('ix_wecom_contact_customer_id'))
        batch_op.drop_index(batch_op.f('ix_wecom_contact_corp_pk'))

    op.drop_table('wecom_contact')
    with op.batch_alter_table('wecom_callback', schema=None) as batch_op:
        batch_op.drop_index('ix_wecom_callback_corp_at')

    op.drop_table('wecom_callback')
    op.drop_table('wecom_corp')
