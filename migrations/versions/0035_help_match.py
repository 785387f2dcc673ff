"""help_match: the match rate (对接率) as the assessment's fifth indicator: the offices' weight of it
(assessment_weights.match_weight, 0 for weights saved before, whose four still sum to 100; the
sum's check now has five) and each published row's match rate (assessment_rows.match_rate_bp,
NULL in versions published before)

Revision ID: 0035_help_match
Revises: 0034_help_events
Create Date: 2026-12-03 18:15:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0035_help_match'
down_revision = '0034_help_events'
branch_labels = None
depends_on = None

CHECK = 'ck_assessment_weights_weights_sum'
FOUR = 'income_weight + coverage_weight + growth_weight + units_weight'


def _sum_check(condition: str) -> None:
    """The weights' sum check replaced (SQLite: the small table copied, its check with it)."""
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('assessment_weights', recreate='always') as batch_op:
            batch_op.drop_constraint(op.f(CHECK), type_='check')
            batch_op.create_check_constraint(op.f(CHECK), condition)
    else:
        op.drop_constraint(op.f(CHECK), 'assessment_weights', type_='check')
        op.create_check_constraint(op.f(CHECK), 'assessment_weights', condition)


def upgrade():
    op.add_column('assessment_weights', sa.Column('match_weight', sa.Integer(),
                                                  server_default='0', nullable=False))
    op.add_column('assessment_rows', sa.Column('match_rate_bp', sa.Integer(), nullable=True))
    _sum_check(f'{FOUR} + match_weight = 100')


def downgrade():
    # weights that gave the match rate a share lose it to income (the four then sum to 100)
    op.execute('UPDATE assessment_weights SET income_weight = income_weight + match_weight, '
               'match_weight = 0')
    _sum_check(f'{FOUR} = 100')
    with op.batch_alter_table('assessment_rows') as batch_op:
        batch_op.drop_column('match_rate_bp')
    with op.batch_alter_table('assessment_weights') as batch_op:
        batch_op.drop_column('match_weight')
