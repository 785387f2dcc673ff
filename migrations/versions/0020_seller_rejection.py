"""seller applicants rejected with a reason (filled by the seller-rejection work)

Revision ID: 0020_seller_rejection
Revises: 0019_stock_on_hand
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0020_seller_rejection'
down_revision = '0019_stock_on_hand'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
