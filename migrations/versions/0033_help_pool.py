"""help_pool: the pool ledger is insert-only (triggers refuse UPDATE and DELETE of pool_entries
on both engines, as for ledger_entries)

Revision ID: 0033_help_pool
Revises: 0032_help_needs
Create Date: 2026-12-03 18:15:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op

# revision identifiers, used by Alembic.
revision = '0033_help_pool'
down_revision = '0032_help_needs'
branch_labels = None
depends_on = None

REFUSAL = "pool_entries is append-only: entries are never changed or deleted"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION pool_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}';
            END $$""")
        op.execute("CREATE TRIGGER pool_entries_append_only BEFORE UPDATE OR DELETE ON "
                   "pool_entries FOR EACH ROW EXECUTE FUNCTION pool_entries_append_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER pool_entries_no_{action.lower()} BEFORE {action} ON "
                       f"pool_entries BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER pool_entries_append_only ON pool_entries")
        op.execute("DROP FUNCTION pool_entries_append_only()")
    else:
        op.execute("DROP TRIGGER pool_entries_no_update")
        op.execute("DROP TRIGGER pool_entries_no_delete")
