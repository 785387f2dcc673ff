"""offline_sales: an offline sale's date, place and receipt number on its order (orders.offline);
the receipt number once per seller

Revision ID: 0027_offline_sales
Revises: 0026_report_rollups
Create Date: 2026-12-03 14:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027_offline_sales'
down_revision = '0026_report_rollups'
branch_labels = None
depends_on = None


def upgrade():
    # plain ALTER TABLE ... ADD COLUMN on both engines (no batch copy of orders on SQLite)
    op.add_column('orders', sa.Column('sold_on', sa.Date(), nullable=True))
    op.add_column('orders', sa.Column('place', sa.String(length=100), server_default='',
                                      nullable=False))
    op.add_column('orders', sa.Column('receipt_no', sa.String(length=32), nullable=True))
    # NULLs are distinct in a unique index on both engines: only offline sales are held to it
    op.create_index('uq_orders_seller_receipt', 'orders', ['seller_id', 'receipt_no'],
                    unique=True)


def downgrade():
    op.drop_index('uq_orders_seller_receipt', table_name='orders')
    for column in ('receipt_no', 'place', 'sold_on'):
        if op.get_bind().dialect.name == 'sqlite':  # SQLite 3.35+ drops a plain column in place
            op.execute(f"ALTER TABLE orders DROP COLUMN {column}")
        else:
            op.drop_column('orders', column)
