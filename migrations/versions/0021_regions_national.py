"""the national region list and address steps (filled by the addresses work, if it needs a schema change)

Revision ID: 0021_regions_national
Revises: 0020_seller_rejection
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0021_regions_national'
down_revision = '0020_seller_rejection'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
