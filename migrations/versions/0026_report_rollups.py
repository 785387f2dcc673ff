"""report_rollups: income_days and sales_days, the reports' pre-aggregates (ledger.rollup),
filled from what the ledger and the paid orders hold already

Revision ID: 0026_report_rollups
Revises: 0025_campaigns_extra
Create Date: 2026-12-03 14:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026_report_rollups'
down_revision = '0025_campaigns_extra'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'income_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('household_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('channel', sa.String(length=24), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('seller_kind', sa.String(length=24), nullable=False),
        sa.Column('village_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'],
                                name=op.f('fk_income_days_household_id_households')),
        sa.ForeignKeyConstraint(['village_id'], ['regions.id'],
                                name=op.f('fk_income_days_village_id_regions')),
        sa.PrimaryKeyConstraint('day', 'household_id', 'channel', 'category_id', 'seller_kind',
                                name=op.f('pk_income_days')),
    )
    op.create_index('ix_income_days_village_day', 'income_days', ['village_id', 'day'])
    op.create_table(
        'sales_days',
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('seller_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('channel', sa.String(length=24), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.Column('seller_kind', sa.String(length=24), nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        sa.Column('sales_fen', sa.BigInteger(), nullable=False),
        sa.Column('refunds_fen', sa.BigInteger(), nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['seller_id'], ['sellers.id'],
                                name=op.f('fk_sales_days_seller_id_sellers')),
        sa.PrimaryKeyConstraint('day', 'seller_id', 'channel', 'category_id',
                                name=op.f('pk_sales_days')),
    )
    # what was posted before the rollups existed: derived once from the entries and orders
    from marketplace.ledger import rollup
    rollup.rebuild(op.get_bind(), months=False)  # 0030 makes and fills the months


def downgrade():
    op.drop_table('sales_days')
    op.drop_index('ix_income_days_village_day', table_name='income_days')
    op.drop_table('income_days')
