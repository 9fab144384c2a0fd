"""fission campaigns and rewards (权益): coupon batches and codes, blind-box pools, prizes and draws;
fission campaigns, participants (referral tree), invitations (anti-fraud claims) and stage rewards.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 14:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('box_draw',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('prize_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('prize_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('coupon_id', sa.Integer(), nullable=True),
    sa.Column('points_entry_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('source', 'source_ref', name='uq_box_draw_source')
    )
    with op.batch_alter_table('box_draw', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_box_draw_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_box_draw_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_box_draw_pool_id'), ['pool_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_box_draw_prize_id'), ['prize_id'], unique=False)

    op.create_table('box_pool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('draws', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('box_prize',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('coupon_batch_id', sa.Integer(), nullable=True),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('stock', sa.Integer(), nullable=False),
    sa.Column('drawn', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('box_prize', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_box_prize_pool_id'), ['pool_id'], unique=False)

    op.create_table('coupon',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('source_ref', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('valid_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('valid_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('issued_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('redeemed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('redeemed_by', sa.Integer(), nullable=True),
    sa.Column('redeem_channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('redeem_note', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('source', 'source_ref', name='uq_coupon_source')
    )
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coupon_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupon_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_coupon_issued_at'), ['issued_at'], unique=False)

    op.create_table('coupon_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('min_spend_fen', sa.BigInteger(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('issued', sa.Integer(), nullable=False),
    sa.Column('redeemed', sa.Integer(), nullable=False),
    sa.Column('valid_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('valid_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('valid_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('fission_campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ends_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('hold_hours', sa.Integer(), nullable=False),
    sa.Column('depth_cap', sa.Integer(), nullable=False),
    sa.Column('team_size', sa.Integer(), nullable=False),
    sa.Column('commission_bp', sa.Integer(), nullable=False),
    sa.Column('rules', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('account_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('group_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('stages', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('poster', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('rate_limit', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('fission_invitation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('ref', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('person_key', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('claim', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
    sa.Column('invitee_wxid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('invitee_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('invitee_customer_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('hold_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('settled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('device', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'claim', name='uq_fission_invitation_claim'),
    sa.UniqueConstraint('campaign_id', 'ref', name='uq_fission_invitation_ref')
    )
    with op.batch_alter_table('fission_invitation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fission_invitation_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fission_invitation_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_fission_invitation_due', ['status', 'hold_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_fission_invitation_invitee_customer_id'), ['invitee_customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fission_invitation_participant_id'), ['participant_id'], unique=False)
        batch_op.create_index('ix_fission_invitation_person', ['campaign_id', 'person_key'], unique=False)

    op.create_table('fission_participant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('wxid', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('invited', sa.Integer(), nullable=False),
    sa.Column('valid', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'customer_id', name='uq_fission_participant'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('fission_participant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fission_participant_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fission_participant_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fission_participant_parent_id'), ['parent_id'], unique=False)

    op.create_table('fission_stage_reward',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('stage_index', sa.Integer(), nullable=False),
    sa.Column('stage_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('processor_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('event_record_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('participant_id', 'stage_index', name='uq_fission_stage_reward')
    )
    with op.batch_alter_table('fission_stage_reward', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fission_stage_reward_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fission_stage_reward_customer_id'), ['customer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('fission_stage_reward', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fission_stage_reward_customer_id'))
        batch_op.drop_index(batch_op.f('ix_fission_stage_reward_campaign_id'))

    op.drop_table('fission_stage_reward')
    with op.batch_alter_table('fission_participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fission_participant_parent_id'))
        batch_op.drop_index(batch_op.f('ix_fission_participant_customer_id'))
        batch_op.drop_index(batch_op.f('ix_fission_participant_campaign_id'))

    op.drop_table('fission_participant')
    with op.batch_alter_table('fission_invitation', schema=None) as batch_op:
        batch_op.drop_index('ix_fission_invitation_person')
        batch_op.drop_index(batch_op.f('ix_fission_invitation_participant_id'))
        batch_op.drop_index(batch_op.f('ix_fission_invitation_invitee_customer_id'))
        batch_op.drop_index('ix_fission_invitation_due')
        batch_op.drop_index(batch_op.f('ix_fission_invitation_created_at'))
        batch_op.drop_index(batch_op.f('ix_fission_invitation_campaign_id'))

    op.drop_table('fission_invitation')
    op.drop_table('fission_campaign')
    op.drop_table('coupon_batch')
    with op.batch_alter_table('coupon', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_coupon_issued_at'))
        batch_op.drop_index(batch_op.f('ix_coupon_customer_id'))
        batch_op.drop_index(batch_op.f('ix_coupon_batch_id'))

    op.drop_table('coupon')
    with op.batch_alter_table('box_prize', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_box_prize_pool_id'))

    op.drop_table('box_prize')
    op.drop_table('box_pool')
    with op.batch_alter_table('box_draw', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_box_draw_prize_id'))
        batch_op.drop_index(batch_op.f('ix_box_draw_pool_id'))
        batch_op.drop_index(batch_op.f('ix_box_draw_customer_id'))
        batch_op.drop_index(batch_op.f('ix_box_draw_created_at'))

    op.drop_table('box_draw')
