"""Changes to products, sellers and regions go to the search outbox in the same transaction.

A session event looks at what a flush writes: a new, changed or deleted Product adds a
`product` row; a Seller whose name or status changed adds a `seller` row (all its products);
a renamed Region adds a `region` row (all products of its subtree). Bulk statements
(`session.execute(update(Product)...)`) bypass the ORM events: code that changes products that
way calls `record(session, kind, ids)` itself.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from marketplace.search.models import OutboxKind, SearchOutbox

PENDING = "search_outbox_written"  # session.info flag: this transaction wrote outbox rows
SELLER_FIELDS = {"name", "status"}
REGION_FIELDS = {"name", "name_path"}
INSERT = SearchOutbox.__table__.insert()


def record(session: Session, kind: OutboxKind, ids: Iterable[int]) -> None:
    rows = [{"kind": kind, "entity_id": i} for i in dict.fromkeys(ids) if i is not None]
    if rows:
        session.connection().execute(INSERT, rows)
        written(session)


def written(session: Session) -> None:
    """This transaction wrote outbox rows (by `record`, or by a statement of its own)."""
    session.info[PENDING] = True


def _changed(obj, fields: set[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[f].history.has_changes() for f in fields if f in state.attrs)


def _after_flush(session: Session, _context) -> None:
    from marketplace.catalog.models import Product
    from marketplace.regions.models import Region
    from marketplace.sellers.models import Seller

    rows: dict[tuple, None] = {}
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if isinstance(obj, Product):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            rows[(OutboxKind.product, obj.id)] = None
        elif isinstance(obj, Seller) and obj not in session.new:
            if obj in session.deleted or _changed(obj, SELLER_FIELDS):
                rows[(OutboxKind.seller, obj.id)] = None
        elif (isinstance(obj, Region) and obj not in session.new
              and _changed(obj, REGION_FIELDS)):
            rows[(OutboxKind.region, obj.id)] = None
    if rows:  # on the flush's own connection: no autoflush inside a flush
        session.connection().execute(
            INSERT,
            [{"kind": k, "entity_id": i} for k, i in rows if i is not None])
        session.info[PENDING] = True


def _after_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


def install() -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_rollback", _after_rollback)
