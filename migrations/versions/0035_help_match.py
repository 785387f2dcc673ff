"""help_match (reserved for the match rate in the reports: filled if that work needs a schema change)

Revision ID: 0035_help_match
Revises: 0034_help_events
Create Date: 2026-12-03 18:15:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0035_help_match'
down_revision = '0034_help_events'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
