"""commerce and analytics: catalogue (SPU/SKU), stock ledger, orders and refunds, the customer's derived
purchase fields, and the daily metric rollup table.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 11:15:24.049732
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
from sqlalchemy.dialects import postgresql
from sqlalchemy import Text

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('metric_daily',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('dim', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('dim_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day', 'metric', 'dim', 'dim_id', name='uq_metric_daily')
    )
    with op.batch_alter_table('metric_daily', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_metric_daily_day'), ['day'], unique=False)

    op.create_table('metric_target',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('metric', sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
    sa.Column('dim', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('dim_id', sa.Integer(), nullable=False),
    sa.Column('period', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.Column('set_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('metric', 'dim', 'dim_id', 'period', name='uq_metric_target')
    )
    op.create_table('order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=True),
    sa.Column('spu_id', sa.Integer(), nullable=True),
    sa.Column('sku_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('specs', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('discount_fen', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_quantity', sa.Integer(), nullable=False),
    sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_line_sku_id'), ['sku_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_line_spu_id'), ['spu_id'], unique=False)

    op.create_table('order_refund',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('refund_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('lines', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('restock', sa.Boolean(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_id', 'external_id', name='uq_order_refund_external'),
    sa.UniqueConstraint('refund_no')
    )
    with op.batch_alter_table('order_refund', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_refund_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_refund_order_id'), ['order_id'], unique=False)

    op.create_table('order_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('to_status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('order_transition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_transition_order_id'), ['order_id'], unique=False)

    op.create_table('product_brand',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('logo_material_id', sa.Integer(), nullable=True),
    sa.Column('remark', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('product_category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['product_category.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('product_category', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_category_parent_id'), ['parent_id'], unique=False)

    op.create_table('product_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('spu_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('changed_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('spu_id', 'version', name='uq_product_version')
    )
    with op.batch_alter_table('product_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_version_spu_id'), ['spu_id'], unique=False)

    op.create_table('sales_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_no', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('credited_user_id', sa.Integer(), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('scene_id', sa.Integer(), nullable=True),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('goods_fen', sa.BigInteger(), nullable=False),
    sa.Column('discount_fen', sa.BigInteger(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_fen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
    sa.Column('remark', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('paid_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('shipped_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('completed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancelled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('reserve_expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('order_no'),
    sa.UniqueConstraint('source', 'external_id', name='uq_sales_order_external')
    )
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_order_channel_id'), ['channel_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_credited_user_id'), ['credited_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_paid_at'), ['paid_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_scene_id'), ['scene_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sales_order_status'), ['status'], unique=False)

    op.create_table('stock_movement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('on_hand_delta', sa.Integer(), nullable=False),
    sa.Column('reserved_delta', sa.Integer(), nullable=False),
    sa.Column('on_hand_after', sa.Integer(), nullable=False),
    sa.Column('reserved_after', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_movement_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_sku_id'), ['sku_id'], unique=False)

    op.create_table('stock_reservation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sku_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stock_reservation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_reservation_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_reservation_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_reservation_sku_id'), ['sku_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_reservation_status'), ['status'], unique=False)

    op.create_table('product_spu',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('subtitle', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('brand_id', sa.Integer(), nullable=True),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('spec_dims', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('images', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=50000), nullable=False),
    sa.Column('tag_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('audience', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('link_url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('miniprogram', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('shelf', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('one_time', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('deleted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['brand_id'], ['product_brand.id'], ),
    sa.ForeignKeyConstraint(['category_id'], ['product_category.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('product_spu', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_spu_brand_id'), ['brand_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_spu_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_spu_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_spu_shelf'), ['shelf'], unique=False)

    op.create_table('product_sku',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('spu_id', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('spec_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('specs', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('price_fen', sa.BigInteger(), nullable=False),
    sa.Column('market_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('low_stock_threshold', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['spu_id'], ['product_spu.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('spu_id', 'spec_key', name='uq_product_sku_spec')
    )
    with op.batch_alter_table('product_sku', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_sku_spu_id'), ['spu_id'], unique=False)

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_order_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('last_order_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('order_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('total_spent_fen', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.create_index(batch_op.f('ix_customer_first_order_at'), ['first_order_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_last_order_at'), ['last_order_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_last_order_at'))
        batch_op.drop_index(batch_op.f('ix_customer_first_order_at'))
        batch_op.drop_column('total_spent_fen')
        batch_op.drop_column('order_count')
        batch_op.drop_column('last_order_at')
        batch_op.drop_column('first_order_at')

    with op.batch_alter_table('product_sku', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_sku_spu_id'))

    op.drop_table('product_sku')
    with op.batch_alter_table('product_spu', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_spu_shelf'))
        batch_op.drop_index(batch_op.f('ix_product_spu_name'))
        batch_op.drop_index(batch_op.f('ix_product_spu_category_id'))
        batch_op.drop_index(batch_op.f('ix_product_spu_brand_id'))

    op.drop_table('product_spu')
    with op.batch_alter_table('stock_reservation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_reservation_status'))
        batch_op.drop_index(batch_op.f('ix_stock_reservation_sku_id'))
        batch_op.drop_index(batch_op.f('ix_stock_reservation_order_id'))
        batch_op.drop_index(batch_op.f('ix_stock_reservation_expires_at'))

    op.drop_table('stock_reservation')
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_movement_sku_id'))
        batch_op.drop_index(batch_op.f('ix_stock_movement_order_id'))
        batch_op.drop_index(batch_op.f('ix_stock_movement_created_at'))

    op.drop_table('stock_movement')
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_order_status'))
        batch_op.drop_index(batch_op.f('ix_sales_order_scene_id'))
        batch_op.drop_index(batch_op.f('ix_sales_order_paid_at'))
        batch_op.drop_index(batch_op.f('ix_sales_order_lead_id'))
        batch_op.drop_index(batch_op.f('ix_sales_order_customer_id'))
        batch_op.drop_index(batch_op.f('ix_sales_order_credited_user_id'))
        batch_op.drop_index(batch_op.f('ix_sales_order_created_at'))
        batch_op.drop_index(batch_op.f('ix_sales_order_channel_id'))

    op.drop_table('sales_order')
    with op.batch_alter_table('product_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_version_spu_id'))

    op.drop_table('product_version')
    with op.batch_alter_table('product_category', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_category_parent_id'))

    op.drop_table('product_category')
    op.drop_table('product_brand')
    with op.batch_alter_table('order_transition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_transition_order_id'))

    op.drop_table('order_transition')
    with op.batch_alter_table('order_refund', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_refund_order_id'))
        batch_op.drop_index(batch_op.f('ix_order_refund_created_at'))

    op.drop_table('order_refund')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_spu_id'))
        batch_op.drop_index(batch_op.f('ix_order_line_sku_id'))
        batch_op.drop_index(batch_op.f('ix_order_line_order_id'))

    op.drop_table('order_line')
    with op.batch_alter_table('metric_daily', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_metric_daily_day'))

    op.drop_table('metric_daily')
    op.drop_table('metric_target')
