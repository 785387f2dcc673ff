"""help_needs (reserved for needs and micro-wishes: filled if that work needs a schema change)

Revision ID: 0032_help_needs
Revises: 0031_help
Create Date: 2026-12-03 18:15:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0032_help_needs'
down_revision = '0031_help'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
