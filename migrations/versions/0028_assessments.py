"""assessments: offices' indicator weights and published assessments with their rows

Revision ID: 0028_assessments
Revises: 0027_offline_sales
Create Date: 2026-12-03 14:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0028_assessments'
down_revision = '0027_offline_sales'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table(
        'assessment_weights',
        sa.Column('region_id', ID, nullable=False),
        sa.Column('income_weight', sa.Integer(), nullable=False),
        sa.Column('coverage_weight', sa.Integer(), nullable=False),
        sa.Column('growth_weight', sa.Integer(), nullable=False),
        sa.Column('units_weight', sa.Integer(), nullable=False),
        sa.Column('updated_by', ID, nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('income_weight + coverage_weight + growth_weight + units_weight = 100',
                           name=op.f('ck_assessment_weights_weights_sum')),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'],
                                name=op.f('fk_assessment_weights_region_id_regions')),
        sa.ForeignKeyConstraint(['updated_by'], ['users.id'],
                                name=op.f('fk_assessment_weights_updated_by_users')),
        sa.PrimaryKeyConstraint('region_id', name=op.f('pk_assessment_weights')),
    )
    op.create_table(
        'assessments',
        sa.Column('id', ID, nullable=False),
        sa.Column('region_id', ID, nullable=True),
        sa.Column('period', sa.String(length=24), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('weights', sa.Text(), nullable=False),
        sa.Column('published_by', ID, nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'],
                                name=op.f('fk_assessments_region_id_regions')),
        sa.ForeignKeyConstraint(['published_by'], ['users.id'],
                                name=op.f('fk_assessments_published_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    )
    op.create_index('ix_assessments_region_period', 'assessments',
                    ['region_id', 'period', 'version'], unique=True)
    op.create_table(
        'assessment_rows',
        sa.Column('id', ID, nullable=False),
        sa.Column('assessment_id', ID, nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=12), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('previous_rank', sa.Integer(), nullable=True),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('income_per_household_fen', sa.BigInteger(), nullable=False),
        sa.Column('coverage_bp', sa.Integer(), nullable=False),
        sa.Column('growth_bp', sa.Integer(), nullable=True),
        sa.Column('units_progress_bp', sa.Integer(), nullable=True),
        sa.Column('attributed_fen', sa.BigInteger(), nullable=False),
        sa.Column('households_reached', sa.Integer(), nullable=False),
        sa.Column('households_registered', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'],
                                name=op.f('fk_assessment_rows_assessment_id_assessments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_rows')),
    )
    op.create_index(op.f('ix_assessment_rows_assessment_id'), 'assessment_rows',
                    ['assessment_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_assessment_rows_assessment_id'), table_name='assessment_rows')
    op.drop_table('assessment_rows')
    op.drop_index('ix_assessments_region_period', table_name='assessments')
    op.drop_table('assessments')
    op.drop_table('assessment_weights')
