"""seller applicants rejected with a reason

A seller's status may now be rejected (the platform turned the application down; the applicant
sees why and may send it again, which makes it pending). sellers.rejection_reason keeps why and
sellers.rejected_at when; the status CHECK takes the new value.

On SQLite the CHECK is widened in place (the procedure of https://www.sqlite.org/lang_altertable.html
section 7 for changing constraints that the rows already satisfy, inside the migration's
transaction): batch mode would copy the table and drop the old one, and with foreign keys on that
DROP fails as soon as products refer to a seller, or deletes every role grant and cooperative
member with it (ON DELETE CASCADE).

Revision ID: 0020_seller_rejection
Revises: 0019_stock_on_hand
Create Date: 2026-12-03 09:30:00
"""
import sqlalchemy as sa
from alembic import op

from marketplace.core.models import AwareDateTime

# revision identifiers, used by Alembic.
revision = '0020_seller_rejection'
down_revision = '0019_stock_on_hand'
branch_labels = None
depends_on = None

STATUS_CHECK = 'ck_sellers_sellerstatus'
OLD_STATUSES = "status IN ('pending', 'verified', 'suspended')"
NEW_STATUSES = "status IN ('pending', 'verified', 'suspended', 'rejected')"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


def _sqlite_replace_check(old: str, new: str) -> None:
    """Rewrite the CHECK text of the sellers table in SQLite's schema: every row satisfies the new
    one (the caller sees to it), so the table needs no copy."""
    conn = op.get_bind()
    sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sellers'").scalar()
    if sql.count(old) != 1:
        raise RuntimeError(f"sellers: expected the CHECK {old!r} once in {sql!r}")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        conn.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'sellers'",
            (sql.replace(old, new),))
        conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        conn.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade():
    if _sqlite():
        op.execute("ALTER TABLE sellers ADD COLUMN rejection_reason VARCHAR(200) "
                   "DEFAULT '' NOT NULL")
        op.execute("ALTER TABLE sellers ADD COLUMN rejected_at DATETIME")
        _sqlite_replace_check(OLD_STATUSES, NEW_STATUSES)
    else:
        op.add_column('sellers', sa.Column('rejection_reason', sa.String(length=200),
                                           server_default='', nullable=False))
        op.add_column('sellers', sa.Column('rejected_at', AwareDateTime(timezone=True),
                                           nullable=True))
        op.drop_constraint(op.f(STATUS_CHECK), 'sellers', type_='check')
        op.create_check_constraint(op.f(STATUS_CHECK), 'sellers', NEW_STATUSES)


def downgrade():
    # before this revision an applicant was turned down by suspending it with a note
    op.execute("UPDATE sellers SET status = 'suspended', status_note = rejection_reason "
               "WHERE status = 'rejected'")
    if _sqlite():
        _sqlite_replace_check(NEW_STATUSES, OLD_STATUSES)
        op.execute("ALTER TABLE sellers DROP COLUMN rejected_at")
        op.execute("ALTER TABLE sellers DROP COLUMN rejection_reason")
    else:
        op.drop_constraint(op.f(STATUS_CHECK), 'sellers', type_='check')
        op.create_check_constraint(op.f(STATUS_CHECK), 'sellers', OLD_STATUSES)
        op.drop_column('sellers', 'rejected_at')
        op.drop_column('sellers', 'rejection_reason')
