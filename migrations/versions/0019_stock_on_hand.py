"""stock is what the seller holds: on hand and held (filled by the stock work)

Revision ID: 0019_stock_on_hand
Revises: 0018_audit_log
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0019_stock_on_hand'
down_revision = '0018_audit_log'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
