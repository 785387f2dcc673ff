"""households' public pages: the token of a household's page while it consents, and the
record of each consent given or withdrawn

Revision ID: 0014_public_pages
Revises: 0013_supply_lots
Create Date: 2026-11-23 18:02:39
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime


# revision identifiers, used by Alembic.
revision = '0014_public_pages'
down_revision = '0013_supply_lots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('household_consents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('household_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('method', sa.String(length=100), nullable=False),
    sa.Column('recorded_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', AwareDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_consents_household_id_households')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_household_consents_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_consents'))
    )
    with op.batch_alter_table('household_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_consents_household_id'), ['household_id'], unique=False)

    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_token', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('public_since', AwareDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_households_public_token'), ['public_token'])



def downgrade():
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_households_public_token'), type_='unique')
        batch_op.drop_column('public_since')
        batch_op.drop_column('public_token')

    with op.batch_alter_table('household_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_consents_household_id'))

    op.drop_table('household_consents')
