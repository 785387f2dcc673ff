"""captures that cannot be an order's payment: refund due and retried (filled by the payments work)

Revision ID: 0016_payment_refunds_due
Revises: 0015_notification_messages
Create Date: 2026-12-03 08:00:00

A payment's status may now be refund_due (captured, but its order could not take it: the money
goes back through its provider, retried until the provider answers) before refunded. The row
keeps why (reason), the refund's attempts, last error, the claim of the process paying it back
and when it was paid back. The status CHECK is replaced (on SQLite the table is copied, batch
mode).
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime

# revision identifiers, used by Alembic.
revision = '0016_payment_refunds_due'
down_revision = '0015_notification_messages'
branch_labels = None
depends_on = None

STATUS_CHECK = 'ck_payments_paymentstatus'


def upgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason', sa.String(length=32), server_default='', nullable=False))
        batch_op.add_column(sa.Column('refund_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('refund_error', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('refund_claimed_until', AwareDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refunded_at', AwareDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f(STATUS_CHECK), type_='check')
        batch_op.create_check_constraint(
            op.f(STATUS_CHECK), "status IN ('succeeded', 'refund_due', 'refunded')")
        batch_op.create_index(batch_op.f('ix_payments_status'), ['status'], unique=False)


def downgrade():
    # before this revision a capture the order could not take was written as refunded at once
    op.execute("UPDATE payments SET status = 'refunded' WHERE status = 'refund_due'")
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_status'))
        batch_op.drop_constraint(op.f(STATUS_CHECK), type_='check')
        batch_op.create_check_constraint(op.f(STATUS_CHECK), "status IN ('succeeded', 'refunded')")
        batch_op.drop_column('refunded_at')
        batch_op.drop_column('refund_claimed_until')
        batch_op.drop_column('refund_error')
        batch_op.drop_column('refund_attempts')
        batch_op.drop_column('reason')
