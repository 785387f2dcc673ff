"""help_pool (reserved for the donation pool and pledges: filled if that work needs a schema change)

Revision ID: 0033_help_pool
Revises: 0032_help_needs
Create Date: 2026-12-03 18:15:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0033_help_pool'
down_revision = '0032_help_needs'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
