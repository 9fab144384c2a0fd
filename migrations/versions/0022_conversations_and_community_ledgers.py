"""会话中心 and 社群增长 foundation: the message store (conversation, chat_message) and the points and
commission ledgers; existing built-in roles get this release's grants (as on a fresh install).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 14:22:53.309394
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text
import json

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None



NEW = {"conversations.view", "conversations.view_all", "quick_replies.manage", "broadcasts.manage", "wecom.manage",
       "mp.manage", "community.view", "community.manage", "fission.manage", "rewards.manage", "rewards.redeem",
       "koc.manage", "kb.manage"}
GRANTS = {
    "operator": NEW,
    "viewer": {p for p in NEW if p.endswith(".view")},
    "sales": {"conversations.view", "community.view", "rewards.redeem"},
    "manager": {"conversations.view", "conversations.view_all", "quick_replies.manage", "broadcasts.manage",
                "community.view", "community.manage", "rewards.redeem"},
}


def _grant_roles() -> None:
    conn = op.get_bind()
    role = sa.table("role", sa.column("id", sa.Integer), sa.column("code", sa.String),
                    sa.column("permissions", sa.JSON), sa.column("builtin", sa.Boolean))
    for row in conn.execute(sa.select(role.c.id, role.c.code, role.c.permissions)
                            .where(role.c.builtin == sa.true(), role.c.code.in_(list(GRANTS)))).all():
        current = row.permissions if isinstance(row.permissions, list) else json.loads(row.permissions or "[]")
        wanted = sorted(set(current) | GRANTS[row.code])
        if wanted != sorted(current):
            conn.execute(role.update().where(role.c.id == row.id).values(permissions=wanted))


def upgrade() -> None:
    op.create_table('chat_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('sender_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sender_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('msg_type', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('command_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'account_id', 'external_id', name='uq_chat_message_external')
    )
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.create_index('ix_chat_message_account_sent', ['account_id', 'sent_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_message_command_id'), ['command_id'], unique=False)
        batch_op.create_index('ix_chat_message_conversation_sent', ['conversation_id', 'sent_at'], unique=False)

    op.create_table('commission_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('beneficiary_customer_id', sa.Integer(), nullable=True),
    sa.Column('beneficiary_user_id', sa.Integer(), nullable=True),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('settle_after', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('settled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_ref', name='uq_commission_entry_source')
    )
    with op.batch_alter_table('commission_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_commission_entry_beneficiary_customer_id'), ['beneficiary_customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commission_entry_beneficiary_user_id'), ['beneficiary_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commission_entry_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commission_entry_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_commission_entry_order_id'), ['order_id'], unique=False)

    op.create_table('conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('peer_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('friend_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('last_message_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_message_text', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('last_direction', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('last_inbound_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('last_outbound_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('unread_count', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('needs_human', sa.Boolean(), nullable=False),
    sa.Column('needs_human_reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'account_id', 'kind', 'peer_id', name='uq_conversation_peer')
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_account_last', ['account_id', 'last_message_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_friend_id'), ['friend_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_group_id'), ['group_id'], unique=False)

    op.create_table('points_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('earned_total', sa.Integer(), nullable=False),
    sa.Column('spent_total', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_id')
    )
    op.create_table('points_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_ref', 'kind', name='uq_points_entry_source')
    )
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_points_entry_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_points_entry_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_points_entry_expires_at'), ['expires_at'], unique=False)

    _grant_roles()


def downgrade() -> None:
    with op.batch_alter_table('points_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_entry_expires_at'))
        batch_op.drop_index(batch_op.f('ix_points_entry_customer_id'))
        batch_op.drop_index(batch_op.f('ix_points_entry_created_at'))

    op.drop_table('points_entry')
    op.drop_table('points_account')
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_group_id'))
        batch_op.drop_index(batch_op.f('ix_conversation_friend_id'))
        batch_op.drop_index(batch_op.f('ix_conversation_customer_id'))
        batch_op.drop_index(batch_op.f('ix_conversation_assignee_id'))
        batch_op.drop_index('ix_conversation_account_last')

    op.drop_table('conversation')
    with op.batch_alter_table('commission_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_commission_entry_order_id'))
        batch_op.drop_index(batch_op.f('ix_commission_entry_group_id'))
        batch_op.drop_index(batch_op.f('ix_commission_entry_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_commission_entry_beneficiary_user_id'))
        batch_op.drop_index(batch_op.f('ix_commission_entry_beneficiary_customer_id'))

    op.drop_table('commission_entry')
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_message_conversation_sent')
        batch_op.drop_index(batch_op.f('ix_chat_message_command_id'))
        batch_op.drop_index('ix_chat_message_account_sent')

    op.drop_table('chat_message')
