"""bank transfers and notifications: payment method and voucher on orders; in-site messages

Revision ID: 0008_transfers_notifications
Revises: 0007_payment_events
Create Date: 2026-11-23 15:00:00
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime

# revision identifiers, used by Alembic.
revision = '0008_transfers_notifications'
down_revision = '0007_payment_events'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=200), nullable=False),
    sa.Column('created_at', AwareDateTime(), nullable=False),
    sa.Column('read_at', AwareDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_unread', ['user_id', 'read_at'], unique=False)

    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payment_method', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('voucher_filename', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('voucher_uploaded_at', AwareDateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_column('voucher_uploaded_at')
        batch_op.drop_column('voucher_filename')
        batch_op.drop_column('payment_method')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_unread')

    op.drop_table('notifications')
