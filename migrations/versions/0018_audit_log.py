"""the insert-only audit log of admin, office and liaison decisions: audit_entries, with
triggers that refuse UPDATE and DELETE on both engines

Revision ID: 0018_audit_log
Revises: 0017_login_guard_sessions
Create Date: 2026-12-03 08:00:00
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime

# revision identifiers, used by Alembic.
revision = '0018_audit_log'
down_revision = '0017_login_guard_sessions'
branch_labels = None
depends_on = None

REFUSAL = "audit_entries is insert-only: entries are never changed or deleted"


def upgrade():
    op.create_table('audit_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', AwareDateTime(), nullable=False),
    sa.Column('actor_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('actor_name', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('object_type', sa.String(length=24), nullable=False),
    sa.Column('object_id', sa.BigInteger(), nullable=True),
    sa.Column('parent_type', sa.String(length=24), nullable=True),
    sa.Column('parent_id', sa.BigInteger(), nullable=True),
    sa.Column('before_json', sa.Text(), nullable=False),
    sa.Column('after_json', sa.Text(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_entries_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entries'))
    )
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.create_index('ix_audit_entries_action', ['action', 'id'], unique=False)
        batch_op.create_index('ix_audit_entries_actor', ['actor_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entries_at'), ['at'], unique=False)
        batch_op.create_index('ix_audit_entries_object', ['object_type', 'object_id', 'id'], unique=False)
        batch_op.create_index('ix_audit_entries_parent', ['parent_type', 'parent_id', 'id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION audit_entries_insert_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}';
            END $$""")
        op.execute("CREATE TRIGGER audit_entries_insert_only BEFORE UPDATE OR DELETE ON "
                   "audit_entries FOR EACH ROW EXECUTE FUNCTION audit_entries_insert_only()")
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_entries_no_{action.lower()} BEFORE {action} ON "
                       f"audit_entries BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entries_insert_only ON audit_entries")
        op.execute("DROP FUNCTION audit_entries_insert_only()")
    else:
        op.execute("DROP TRIGGER audit_entries_no_update")
        op.execute("DROP TRIGGER audit_entries_no_delete")
    with op.batch_alter_table('audit_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entries_parent')
        batch_op.drop_index('ix_audit_entries_object')
        batch_op.drop_index(batch_op.f('ix_audit_entries_at'))
        batch_op.drop_index('ix_audit_entries_actor')
        batch_op.drop_index('ix_audit_entries_action')

    op.drop_table('audit_entries')
