"""offline_sales (reserved: filled if that work needs a schema change)

Revision ID: 0027_offline_sales
Revises: 0026_report_rollups
Create Date: 2026-12-03 14:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0027_offline_sales'
down_revision = '0026_report_rollups'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
