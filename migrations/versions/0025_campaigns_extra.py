"""campaigns_extra (reserved: filled if that work needs a schema change)

Revision ID: 0025_campaigns_extra
Revises: 0024_filings_offices
Create Date: 2026-12-03 11:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0025_campaigns_extra'
down_revision = '0024_filings_offices'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
