"""supply lots (收购批次): what sellers bought from which households for which product, at what
price (flagged when below the product's guaranteed minimum), and what each sale drew from them;
products say whether they are attributed through lots and what minimum price they guarantee

Revision ID: 0013_supply_lots
Revises: 0012_attribution_rules
Create Date: 2026-11-23 17:56:59
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime


# revision identifiers, used by Alembic.
revision = '0013_supply_lots'
down_revision = '0012_attribution_rules'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supply_lots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seller_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('household_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.BigInteger(), nullable=False),
    sa.Column('purchased_on', sa.Date(), nullable=False),
    sa.Column('guaranteed_price_fen', sa.BigInteger(), nullable=True),
    sa.Column('below_guarantee', sa.Boolean(), nullable=False),
    sa.Column('recorded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', AwareDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_supply_lots_quantity_positive')),
    sa.CheckConstraint('remaining >= 0 AND remaining <= quantity', name=op.f('ck_supply_lots_remaining_range')),
    sa.CheckConstraint('unit_price_fen >= 0', name=op.f('ck_supply_lots_price_nonnegative')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_supply_lots_household_id_households')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_supply_lots_product_id_products')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_supply_lots_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'], name=op.f('fk_supply_lots_seller_id_sellers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_lots'))
    )
    with op.batch_alter_table('supply_lots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_lots_below_guarantee'), ['below_guarantee'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_lots_household_id'), ['household_id'], unique=False)
        batch_op.create_index('ix_supply_lots_product_fifo', ['product_id', 'purchased_on', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_lots_seller_id'), ['seller_id'], unique=False)

    op.create_table('lot_draws',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('lot_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('household_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_lot_draws_quantity_positive')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_lot_draws_household_id_households')),
    sa.ForeignKeyConstraint(['lot_id'], ['supply_lots.id'], name=op.f('fk_lot_draws_lot_id_supply_lots')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_lot_draws_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot_draws')),
    sa.UniqueConstraint('lot_id', 'order_line_id', name='uq_lot_draws_pair')
    )
    with op.batch_alter_table('lot_draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lot_draws_order_line_id'), ['order_line_id'], unique=False)

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lot_backed', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('guaranteed_price_fen', sa.BigInteger(), nullable=True))



def downgrade():
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('guaranteed_price_fen')
        batch_op.drop_column('lot_backed')

    with op.batch_alter_table('lot_draws', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lot_draws_order_line_id'))

    op.drop_table('lot_draws')
    with op.batch_alter_table('supply_lots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supply_lots_seller_id'))
        batch_op.drop_index('ix_supply_lots_product_fifo')
        batch_op.drop_index(batch_op.f('ix_supply_lots_household_id'))
        batch_op.drop_index(batch_op.f('ix_supply_lots_below_guarantee'))

    op.drop_table('supply_lots')
