"""catalog index for the storefront's default sort

Revision ID: 0002_catalog_indexes
Revises: 0001_foundation
Create Date: 2026-11-23 10:00:00

ix_products_status_featured_listed_at (status, featured, listed_at, id, seller_id): the
catalogue's default order (featured first, then newest, then id) is read straight off the
index, so a page stops after its rows instead of sorting every listed product; seller_id lets
the check of the seller's status skip the product row for rows before the page's offset.
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002_catalog_indexes"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index("ix_products_status_featured_listed_at",
                              ["status", "featured", "listed_at", "id", "seller_id"],
                              unique=False)


def downgrade():
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index("ix_products_status_featured_listed_at")
