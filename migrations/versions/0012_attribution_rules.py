"""attribution rules: the households' share in basis points for sellers (their products'
default) and products, and on each order line the share and attributable amount of its sale

Revision ID: 0012_attribution_rules
Revises: 0011_ledger
Create Date: 2026-11-23 16:32:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_attribution_rules'
down_revision = '0011_ledger'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.add_column(sa.Column('share_bp', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('attributable_fen', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_share_bp', sa.Integer(), nullable=True))

    with op.batch_alter_table('sellers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_share_bp', sa.Integer(), server_default='0', nullable=False))



def downgrade():
    with op.batch_alter_table('sellers', schema=None) as batch_op:
        batch_op.drop_column('household_share_bp')

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('household_share_bp')

    with op.batch_alter_table('order_lines', schema=None) as batch_op:
        batch_op.drop_column('attributable_fen')
        batch_op.drop_column('share_bp')

