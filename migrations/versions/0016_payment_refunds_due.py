"""captures that cannot be an order's payment: refund due and retried (filled by the payments work)

Revision ID: 0016_payment_refunds_due
Revises: 0015_notification_messages
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0016_payment_refunds_due'
down_revision = '0015_notification_messages'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
