"""failed logins counted in the database, a per-user session generation (filled by the sessions work)

Revision ID: 0017_login_guard_sessions
Revises: 0016_payment_refunds_due
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0017_login_guard_sessions'
down_revision = '0016_payment_refunds_due'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
