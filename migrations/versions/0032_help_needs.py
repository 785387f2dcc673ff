"""help_needs: a need's search tokens (needs.search_tokens), for the wall's Chinese search

Revision ID: 0032_help_needs
Revises: 0031_help
Create Date: 2026-12-03 18:15:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0032_help_needs'
down_revision = '0031_help'
branch_labels = None
depends_on = None


def upgrade():
    # a plain ALTER TABLE ... ADD COLUMN on both engines (alembic's add_column, no batch copy)
    op.add_column('needs', sa.Column('search_tokens', sa.Text(), server_default='',
                                     nullable=False))


def downgrade():
    with op.batch_alter_table('needs', schema=None) as batch_op:
        batch_op.drop_column('search_tokens')
