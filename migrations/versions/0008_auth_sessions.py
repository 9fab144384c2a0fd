"""auth sessions: server-side console sessions (revocable) and server-side flash messages

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 08:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('auth_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('revoked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_token_hash'), ['token_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_auth_session_user_id'), ['user_id'], unique=False)

    op.create_table('stashed_flash',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ref_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('messages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stashed_flash', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stashed_flash_ref_hash'), ['ref_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_stashed_flash_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stashed_flash', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stashed_flash_created_at'))
        batch_op.drop_index(batch_op.f('ix_stashed_flash_ref_hash'))
    op.drop_table('stashed_flash')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_user_id'))
        batch_op.drop_index(batch_op.f('ix_auth_session_token_hash'))
    op.drop_table('auth_session')
