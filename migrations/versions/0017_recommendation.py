"""recommendation: the tables 智能推荐 ranks from (product ⇄ tag index, co-purchase pairs,
popularity per segment) and the log of their rebuilds; marketing_plan.product_id (商品定向营销).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('recommend_product_tag',
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('spu_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tag_id', 'spu_id')
    )
    with op.batch_alter_table('recommend_product_tag', schema=None) as batch_op:
        batch_op.create_index('ix_recommend_product_tag_spu', ['spu_id'], unique=False)

    op.create_table('recommend_co_purchase',
    sa.Column('spu_id', sa.Integer(), nullable=False),
    sa.Column('other_id', sa.Integer(), nullable=False),
    sa.Column('buyers', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('spu_id', 'other_id')
    )
    op.create_table('recommend_popularity',
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.Column('spu_id', sa.Integer(), nullable=False),
    sa.Column('buyers', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('tag_id', 'spu_id')
    )
    op.create_table('recommend_build',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('built_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('purchases', sa.Integer(), nullable=False),
    sa.Column('pairs', sa.Integer(), nullable=False),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('recommend_build', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recommend_build_built_at'), ['built_at'], unique=False)

    with op.batch_alter_table('marketing_plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_marketing_plan_product_id'), ['product_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('marketing_plan', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_marketing_plan_product_id'))
        batch_op.drop_column('product_id')
    op.drop_table('recommend_build')
    op.drop_table('recommend_popularity')
    op.drop_table('recommend_co_purchase')
    with op.batch_alter_table('recommend_product_tag', schema=None) as batch_op:
        batch_op.drop_index('ix_recommend_product_tag_spu')
    op.drop_table('recommend_product_tag')
