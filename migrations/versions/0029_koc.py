"""KOC and the knowledge base: koc, koc_group, koc_task, koc_checkin (part 'koc' of issue 13, item 5)
and kb_topic, kb_entry, kb_passage, kb_answer_log (智能回复, item 6).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 14:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kb_answer_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('question', sa.Text(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('passage_id', sa.Integer(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('handed_over', sa.Boolean(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('phrased_by_llm', sa.Boolean(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('step_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('resolution', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('resolved_by', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_answer_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_answer_log_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_kb_answer_log_created', ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_answer_log_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_answer_log_step_key'), ['step_key'], unique=False)

    op.create_table('kb_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('question', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('alternatives', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('keywords', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_entry_topic_id'), ['topic_id'], unique=False)

    op.create_table('kb_passage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('kb_passage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_passage_entry_id'), ['entry_id'], unique=False)

    op.create_table('kb_topic',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('koc',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('wxid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('link_nonce', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('koc', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_koc_customer_id'), ['customer_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_koc_user_id'), ['user_id'], unique=True)

    op.create_table('koc_checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('koc_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('strategy_id', sa.Integer(), nullable=False),
    sa.Column('keyword', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('koc_checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_koc_checkin_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_koc_checkin_koc_id'), ['koc_id'], unique=False)

    op.create_table('koc_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('koc_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id', name='uq_koc_group_group')
    )
    with op.batch_alter_table('koc_group', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_koc_group_koc_id'), ['koc_id'], unique=False)

    op.create_table('koc_task',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('koc_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('keyword', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('min_chars', sa.Integer(), nullable=False),
    sa.Column('min_replies', sa.Integer(), nullable=False),
    sa.Column('due_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('completed_by', sa.Integer(), nullable=True),
    sa.Column('evidence', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('koc_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_koc_task_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_koc_task_koc_id'), ['koc_id'], unique=False)


def downgrade() -> None:
    op.drop_table('koc_task')
    op.drop_table('koc_group')
    op.drop_table('koc_checkin')
    op.drop_table('koc')
    op.drop_table('kb_topic')
    op.drop_table('kb_passage')
    op.drop_table('kb_entry')
    op.drop_table('kb_answer_log')
