"""units_members: orders.unit_purpose (a union's purchase for welfare 福利 or condolence 慰问)

On SQLite the column is added in place (ALTER TABLE ... ADD COLUMN): batch mode would copy the
orders table and drop the old one, which the foreign keys that point at orders forbid.

Revision ID: 0023_units_members
Revises: 0022_units_campaigns
Create Date: 2026-12-03 11:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023_units_members'
down_revision = '0022_units_campaigns'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_context().dialect.name == "sqlite":
        op.execute("ALTER TABLE orders ADD COLUMN unit_purpose VARCHAR(16) DEFAULT '' NOT NULL")
    else:
        op.add_column('orders', sa.Column('unit_purpose', sa.String(length=16),
                                          server_default='', nullable=False))


def downgrade():
    if op.get_context().dialect.name == "sqlite":
        op.execute("ALTER TABLE orders DROP COLUMN unit_purpose")
    else:
        op.drop_column('orders', 'unit_purpose')
