"""core.db.insert_many: on PostgreSQL its twin ("bulk.insert": psycopg's executemany in
pipeline mode) writes the same rows as the portable statement and answers the new ids in the
rows' order; on SQLite it is the portable statement. A group purchase's close writes its orders
with it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.core import db as core_db
from marketplace.core.time import now_utc
from marketplace.orders.models import Checkout
from tests.fixtures.factories import make_user

AT = now_utc()


def _rows(user_id: int, tag: str, n: int = 120) -> list[dict]:
    at = AT
    return [{"buyer_id": user_id, "idempotency_key": f"{tag}-{i:04d}", "fingerprint": tag,
             "created_at": at - timedelta(seconds=i)} for i in range(n)]


def _read(session, tag):
    return [tuple(r) for r in session.execute(
        select(Checkout.buyer_id, Checkout.idempotency_key, Checkout.fingerprint,
               Checkout.created_at).where(Checkout.fingerprint == tag)
        .order_by(Checkout.idempotency_key))]


def test_bulk_insert_twin_writes_what_the_portable_statement_writes(session):
    user = make_user(session)
    conn = session.connection()
    table = Checkout.__table__
    seen = {}
    for setting in ("all", "none"):
        core_db.configure_twins(setting)
        try:
            rows = _rows(user.id, f"bulk-{setting}")
            ids = core_db.insert_many(conn, table, rows, "id")
        finally:
            core_db.configure_twins("all")
        keys = dict(session.execute(select(Checkout.id, Checkout.idempotency_key)
                                    .where(Checkout.id.in_(ids))).all())
        assert [keys[i] for i in ids] == [r["idempotency_key"] for r in rows]  # in order
        seen[setting] = [(b, k.split("-", 2)[-1], at) for b, k, _f, at in
                         _read(session, f"bulk-{setting}")]
    assert seen["all"] == seen["none"] and len(seen["all"]) == 120
