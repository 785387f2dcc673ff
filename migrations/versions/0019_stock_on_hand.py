"""stock is what the seller holds: on hand and held

products.stock stays the units free to sell (checkout's conditional UPDATE takes from it);
products.held is new: the units unpaid orders hold. What the seller holds (on hand) is
stock + held. Backfilled from the lines of the orders that wait for payment with their stock
held, so that on hand is what it was before: the free units plus those held.

Revision ID: 0019_stock_on_hand
Revises: 0018_audit_log
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_stock_on_hand'
down_revision = '0018_audit_log'
branch_labels = None
depends_on = None


CHECK_NAME = 'ck_products_held_nonnegative'


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def upgrade():
    if _sqlite():
        # ALTER TABLE keeps the table: batch mode would copy it, and dropping the old products
        # table fails (foreign keys are on) as soon as order lines or images refer to it
        op.execute("ALTER TABLE products ADD COLUMN held INTEGER DEFAULT '0' NOT NULL "
                   f"CONSTRAINT {CHECK_NAME} CHECK (held >= 0)")
    else:
        op.add_column('products',
                      sa.Column('held', sa.Integer(), server_default='0', nullable=False))
        op.create_check_constraint(op.f(CHECK_NAME), 'products', 'held >= 0')

    products = sa.table('products', sa.column('id', sa.BigInteger()),
                        sa.column('held', sa.Integer()))
    orders = sa.table('orders', sa.column('id', sa.BigInteger()), sa.column('status', sa.String()),
                      sa.column('stock_held', sa.Boolean()))
    lines = sa.table('order_lines', sa.column('order_id', sa.BigInteger()),
                     sa.column('product_id', sa.BigInteger()),
                     sa.column('quantity', sa.Integer()))
    holding = (sa.select(lines.c.product_id).select_from(
        lines.join(orders, orders.c.id == lines.c.order_id))
        .where(orders.c.status == 'pending_payment', orders.c.stock_held == sa.true()))
    held = (sa.select(sa.func.coalesce(sa.func.sum(lines.c.quantity), 0))
            .select_from(lines.join(orders, orders.c.id == lines.c.order_id))
            .where(lines.c.product_id == products.c.id,
                   orders.c.status == 'pending_payment', orders.c.stock_held == sa.true())
            .scalar_subquery())
    op.execute(products.update().where(products.c.id.in_(holding)).values(held=held))


def downgrade():
    # stock keeps the free units, what it meant before; the count of held units goes
    if _sqlite():
        op.execute("ALTER TABLE products DROP COLUMN held")  # its CHECK goes with it
    else:
        op.drop_constraint(op.f(CHECK_NAME), 'products', type_='check')
        op.drop_column('products', 'held')
