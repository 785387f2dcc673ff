"""help_events (reserved for fairs and live-sale events: filled if that work needs a schema change)

Revision ID: 0034_help_events
Revises: 0033_help_pool
Create Date: 2026-12-03 18:15:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0034_help_events'
down_revision = '0033_help_pool'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
