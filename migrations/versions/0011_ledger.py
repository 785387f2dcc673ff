"""ledger: insert-only, hash-chained attribution entries (triggers refuse UPDATE and DELETE on
both engines) and the chain's head row

Revision ID: 0011_ledger
Revises: 0010_address_book
Create Date: 2026-11-23 16:23:08
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime

# revision identifiers, used by Alembic.
revision = '0011_ledger'
down_revision = '0010_address_book'
branch_labels = None
depends_on = None

GENESIS_HASH = "0" * 64
REFUSAL = "ledger_entries is append-only: entries are never changed or deleted"


def upgrade():
    op.create_table('ledger_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_head'))
    )
    op.create_table('ledger_entries',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('household_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('order_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Enum('sale', 'reversal', name='entrykind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_at', AwareDateTime(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint("(kind = 'sale' AND amount_fen > 0) OR (kind = 'reversal' AND amount_fen < 0)", name=op.f('ck_ledger_entries_sign_fits_kind')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_ledger_entries_household_id_households')),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_lines.id'], name=op.f('fk_ledger_entries_order_line_id_order_lines')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('hash', name=op.f('uq_ledger_entries_hash'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_household_seq', ['household_id', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_order_line_id'), ['order_line_id'], unique=False)
    op.execute(sa.text("INSERT INTO ledger_head (id, last_seq, last_hash) VALUES (1, 0, :h)")
               .bindparams(h=GENESIS_HASH))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}';
            END $$""")
        op.execute("CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON "
                   "ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER ledger_entries_no_{action.lower()} BEFORE {action} ON "
                       f"ledger_entries BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER ledger_entries_append_only ON ledger_entries")
        op.execute("DROP FUNCTION ledger_entries_append_only()")
    else:
        op.execute("DROP TRIGGER ledger_entries_no_update")
        op.execute("DROP TRIGGER ledger_entries_no_delete")
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_entries_order_line_id'))
        batch_op.drop_index('ix_ledger_entries_household_seq')

    op.drop_table('ledger_entries')
    op.drop_table('ledger_head')
