"""search outbox: changes the search index must follow

Revision ID: 0003_search_outbox
Revises: 0002_catalog_indexes
Create Date: 2026-11-23 11:00:00

One row per changed product, seller or region, written in the same transaction as the change;
each search index applies the rows after its watermark (marketplace.search).
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime

revision = "0003_search_outbox"
down_revision = "0002_catalog_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.Enum("product", "seller", "region", name="outboxkind",
                                  native_enum=False, length=16, create_constraint=True),
                  nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    op.create_index("ix_search_outbox_created_at", "search_outbox", ["created_at"], unique=False)


def downgrade():
    op.drop_index("ix_search_outbox_created_at", table_name="search_outbox")
    op.drop_table("search_outbox")
