"""report_months: income_months, sales_months (by month and county) and household_periods (a
household's net by month, quarter and year), so that a county's, a city's or a province's
report reads hundreds of rows, not every household's days (bench/reports.py); filled from
what the ledger and the paid orders hold already

Revision ID: 0030_report_months
Revises: 0029_reports_extra
Create Date: 2026-12-03 18:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0030_report_months'
down_revision = '0029_reports_extra'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _dims():
    return [sa.Column('channel', sa.String(length=24), nullable=False),
            sa.Column('category_id', sa.Integer(), nullable=False),
            sa.Column('seller_kind', sa.String(length=24), nullable=False)]


def upgrade():
    op.create_table(
        'income_months',
        sa.Column('area_id', BIG, nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        *_dims(),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['area_id'], ['regions.id'],
                                name=op.f('fk_income_months_area_id_regions')),
        sa.PrimaryKeyConstraint('area_id', 'month', 'channel', 'category_id', 'seller_kind',
                                name=op.f('pk_income_months')),
    )
    op.create_table(
        'sales_months',
        sa.Column('area_id', BIG, nullable=False),
        sa.Column('month', sa.Integer(), nullable=False),
        *_dims(),
        sa.Column('sales_fen', sa.BigInteger(), nullable=False),
        sa.Column('refunds_fen', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['area_id'], ['regions.id'],
                                name=op.f('fk_sales_months_area_id_regions')),
        sa.PrimaryKeyConstraint('area_id', 'month', 'channel', 'category_id', 'seller_kind',
                                name=op.f('pk_sales_months')),
    )
    op.create_table(
        'household_periods',
        sa.Column('village_id', BIG, nullable=False),
        sa.Column('period', sa.Integer(), nullable=False),
        sa.Column('household_id', BIG, nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.Column('entries', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['household_id'], ['households.id'],
                                name=op.f('fk_household_periods_household_id_households')),
        sa.ForeignKeyConstraint(['village_id'], ['regions.id'],
                                name=op.f('fk_household_periods_village_id_regions')),
        sa.PrimaryKeyConstraint('village_id', 'period', 'household_id',
                                name=op.f('pk_household_periods'),
                                postgresql_include=['amount_fen']),
    )
    op.create_index('ix_household_periods_period_village', 'household_periods',
                    ['period', 'village_id', 'household_id', 'amount_fen'])
    from marketplace.ledger import rollup
    rollup.rebuild(op.get_bind(), days=False)


def downgrade():
    op.drop_index('ix_household_periods_period_village', table_name='household_periods')
    op.drop_table('household_periods')
    op.drop_table('sales_months')
    op.drop_table('income_months')
