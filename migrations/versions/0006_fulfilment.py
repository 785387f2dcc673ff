"""fulfilment and refunds: carrier, tracking number, shipped and received times; refunds

Revision ID: 0006_fulfilment
Revises: 0005_cart
Create Date: 2026-11-23 14:00:00
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime

# revision identifiers, used by Alembic.
revision = '0006_fulfilment'
down_revision = '0005_cart'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('refunds',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('requested', 'refunded', 'rejected', name='refundstatus', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('requested_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decided_by', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('provider_reference', sa.String(length=64), nullable=False),
    sa.Column('created_at', AwareDateTime(), nullable=False),
    sa.Column('decided_at', AwareDateTime(), nullable=True),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_refunds_amount_positive')),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], name=op.f('fk_refunds_decided_by_users')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_refunds_order_id_orders')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_refunds_requested_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refunds'))
    )
    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refunds_order_id'), ['order_id'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carrier', sa.String(length=32), server_default='', nullable=False))
        batch_op.add_column(sa.Column('tracking_no', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('shipped_at', AwareDateTime(), nullable=True))
        batch_op.add_column(sa.Column('received_at', AwareDateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('received_at')
        batch_op.drop_column('shipped_at')
        batch_op.drop_column('tracking_no')
        batch_op.drop_column('carrier')

    with op.batch_alter_table('refunds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refunds_order_id'))

    op.drop_table('refunds')
