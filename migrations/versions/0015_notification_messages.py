"""notifications stored as a message key with its values (shown in the reader's language) and an
endpoint name with its arguments (the link built with url_for); rows written before keep their
Chinese text and typed url

Revision ID: 0015_notification_messages
Revises: 0014_public_pages
Create Date: 2026-12-02 10:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_notification_messages'
down_revision = '0014_public_pages'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_key', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('message_values', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('endpoint', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('endpoint_args', sa.Text(), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('endpoint_args')
        batch_op.drop_column('endpoint')
        batch_op.drop_column('message_values')
        batch_op.drop_column('message_key')
