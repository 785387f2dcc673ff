"""orders: checkouts, orders per seller, lines, events, payments; sellers' shipping rule

Revision ID: 0004_orders
Revises: 0003_search_outbox
Create Date: 2026-11-23 13:30:09

A checkout (one submission, unique per buyer and idempotency key) becomes one order per seller;
stock is reserved by decrementing products.stock and released on cancel or expiry.
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime

# revision identifiers, used by Alembic.
revision = '0004_orders'
down_revision = '0003_search_outbox'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkouts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('buyer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', AwareDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_checkouts_buyer_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkouts')),
    sa.UniqueConstraint('buyer_id', 'idempotency_key', name='uq_checkouts_buyer_key')
    )
    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('checkout_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('buyer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seller_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.Enum('individual', 'unit_member', 'unit_purchase', 'group_purchase', 'procurement', 'offline', name='channel', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('status', sa.Enum('pending_payment', 'paid', 'shipped', 'received', 'completed', 'cancelled', name='orderstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('goods_fen', sa.BigInteger(), nullable=False),
    sa.Column('shipping_fen', sa.BigInteger(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('paid_fen', sa.BigInteger(), nullable=False),
    sa.Column('refunded_fen', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reserved_until', AwareDateTime(), nullable=True),
    sa.Column('stock_held', sa.Boolean(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=32), nullable=False),
    sa.Column('paid_at', AwareDateTime(), nullable=True),
    sa.Column('recipient', sa.String(length=32), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('region_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_names', sa.String(length=200), nullable=False),
    sa.Column('address_detail', sa.String(length=200), nullable=False),
    sa.Column('created_at', AwareDateTime(), nullable=False),
    sa.Column('updated_at', AwareDateTime(), nullable=False),
    sa.CheckConstraint('refunded_fen <= paid_fen', name=op.f('ck_orders_refund_within_paid')),
    sa.CheckConstraint('total_fen = goods_fen + shipping_fen', name=op.f('ck_orders_total_sum')),
    sa.ForeignKeyConstraint(['buyer_id'], ['users.id'], name=op.f('fk_orders_buyer_id_users')),
    sa.ForeignKeyConstraint(['checkout_id'], ['checkouts.id'], name=op.f('fk_orders_checkout_id_checkouts')),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_orders_region_id_regions')),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_orders_seller_id_sellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_buyer_created', ['buyer_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_orders_checkout_id'), ['checkout_id'], unique=False)
        batch_op.create_index('ix_orders_seller_status', ['seller_id', 'status'], unique=False)
        batch_op.create_index('ix_orders_status_reserved_until', ['status', 'reserved_until'], unique=False)

    op.create_table('order_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=24), nullable=False),
    sa.Column('to_status', sa.String(length=24), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_at', AwareDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_order_events_actor_id_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_events_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_events'))
    )
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_events_order_id'), ['order_id'], unique=False)

    op.create_table('order_lines',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('spec', sa.String(length=64), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_fen = unit_price_fen * quantity', name=op.f('ck_order_lines_amount_product')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_order_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_order_lines_order_id_orders')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_order_lines_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_lines')),
    sa.UniqueConstraint('order_id', 'product_id', name='uq_order_lines_product')
    )
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_lines_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_lines_product_id'), ['product_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.Enum('succeeded', 'refunded', name='paymentstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('created_at', AwareDateTime(), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_payments_amount_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_payments_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('provider', 'reference', name='uq_payments_reference')
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('sellers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipping_fee_fen', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('free_shipping_from_fen', sa.BigInteger(), nullable=True))



def downgrade():
    with op.batch_alter_table('sellers', schema=None) as batch_op:
        batch_op.drop_column('free_shipping_from_fen')
        batch_op.drop_column('shipping_fee_fen')

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_order_id'))

    op.drop_table('payments')
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_lines_product_id'))
        batch_op.drop_index(batch_op.f('ix_order_lines_order_id'))

    op.drop_table('order_lines')
    with op.batch_alter_table('order_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_events_order_id'))

    op.drop_table('order_events')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_status_reserved_until')
        batch_op.drop_index('ix_orders_seller_status')
        batch_op.drop_index(batch_op.f('ix_orders_checkout_id'))
        batch_op.drop_index('ix_orders_buyer_created')

    op.drop_table('orders')
    op.drop_table('checkouts')
