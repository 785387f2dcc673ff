"""reports_extra (reserved: filled if that work needs a schema change)

Revision ID: 0029_reports_extra
Revises: 0028_assessments
Create Date: 2026-12-03 14:40:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0029_reports_extra'
down_revision = '0028_assessments'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
