"""the insert-only audit log of admin, office and liaison decisions (filled by the audit work)

Revision ID: 0018_audit_log
Revises: 0017_login_guard_sessions
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

# revision identifiers, used by Alembic.
revision = '0018_audit_log'
down_revision = '0017_login_guard_sessions'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
