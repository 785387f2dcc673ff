"""The SQL of the order hot paths (checkout, reading an order), built once: a statement object
caches its compiled form and cache key, so running one costs no compilation. Statuses, event
kinds and outbox kinds are bound parameters from the enums (ORDER_PARAMS), never typed here.

Portable (both engines): TAKE_STOCK (a product's units, only while enough are left),
PUT_BACK_STOCK, INSERT_ORDERS / INSERT_LINES / INSERT_EVENTS, INSERT_CHECKOUT, and the reads.

Twins (PostgreSQL), kept on bench/checkout.py's figures (see docs/architecture.md) and proven
to write the same rows as the portable steps by tests/services/test_sql_twins.py:
- `orders.take_stock` (PG_TAKE_STOCK): the units and the product's search-outbox row in one
  statement;
- `orders.one_order` (pg_one_order): a one-seller checkout's order, lines and 'created' event in
  one statement.
"""
from __future__ import annotations

import functools

from sqlalchemy import String, bindparam, select, text, update

from marketplace.catalog.models import Product
from marketplace.core.models import AwareDateTime
from marketplace.orders.models import (
    Checkout,
    Order,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderStatus,
)
from marketplace.regions.models import Region
from marketplace.search import outbox
from marketplace.search.models import OutboxKind
from marketplace.sellers.models import Seller

# the tables the hot paths write with Core statements
CHECKOUTS = Checkout.__table__
ORDERS = Order.__table__
LINES = OrderLine.__table__
EVENTS = OrderEvent.__table__
PRODUCTS = Product.__table__
REGIONS = Region.__table__
SELLERS = Seller.__table__
# the bound values of statuses and kinds (added to the parameters of the statements below)
ORDER_PARAMS = {"st_pending": OrderStatus.pending_payment.value,
                "ev_created": OrderEventKind.created.value,
                "outbox_product": OutboxKind.product.value}

# ---- portable -----------------------------------------------------------------------------------
# Bound parameters of UPDATE statements are named unlike any column ("p_..."): SQLAlchemy would add
# a SET for a parameter named after a column of the table.
TAKE_STOCK = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("pid"),
                                     PRODUCTS.c.stock >= bindparam("q"))
              .values(stock=PRODUCTS.c.stock - bindparam("q"),
                      updated_at=bindparam("p_at", type_=AwareDateTime())))
PUT_BACK_STOCK = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("pid"))
                  .values(stock=PRODUCTS.c.stock + bindparam("q")))
INSERT_ORDERS = ORDERS.insert().returning(ORDERS.c.id, sort_by_parameter_order=True)
INSERT_LINES = LINES.insert().returning(LINES.c.id, sort_by_parameter_order=True)
INSERT_EVENTS = EVENTS.insert()
EVENT_COLUMNS = ["order_id", "kind", "from_status", "to_status", "actor_id", "note",
                 "created_at"]
# INSERT ... ON CONFLICT DO NOTHING RETURNING id (PostgreSQL and SQLite): no row when the key
# was taken before (PostgreSQL waits for a concurrent insert of the same key to end). Written as
# SQL: SQLAlchemy does not cache its dialect-specific INSERT constructs, and compiling one costs
# more than running it.
_AT_TYPED = bindparam("created_at", type_=AwareDateTime())
INSERT_CHECKOUT = text(
    "INSERT INTO checkouts (buyer_id, idempotency_key, fingerprint, created_at) "
    "VALUES (:buyer_id, :idempotency_key, :fingerprint, :created_at) "
    "ON CONFLICT (buyer_id, idempotency_key) DO NOTHING RETURNING id").bindparams(_AT_TYPED)
REGION_BY_CODE = select(REGIONS.c.id, REGIONS.c.code, REGIONS.c.name_path).where(
    REGIONS.c.code == bindparam("code"))
_REGION = REGIONS.c.code == bindparam("code")
PRODUCTS_FOR_CHECKOUT = (
    select(PRODUCTS.c.id, PRODUCTS.c.name, PRODUCTS.c.spec, PRODUCTS.c.price_fen,
           PRODUCTS.c.status, SELLERS,
           select(REGIONS.c.id).where(_REGION).scalar_subquery().label("address_region_id"),
           select(REGIONS.c.name_path).where(_REGION).scalar_subquery()
           .label("address_region_path"))
    .join(SELLERS, SELLERS.c.id == PRODUCTS.c.seller_id)
    .where(PRODUCTS.c.id.in_(bindparam("ids", expanding=True))))
ORDER_WITH_LINES = (select(ORDERS, SELLERS, LINES)
                    .join(SELLERS, SELLERS.c.id == ORDERS.c.seller_id)
                    .outerjoin(LINES, LINES.c.order_id == ORDERS.c.id)
                    .where(ORDERS.c.id == bindparam("order_id")).order_by(LINES.c.id))


# ---- twin orders.take_stock (PostgreSQL) --------------------------------------------------------
def _pg_take_stock():
    at = bindparam("p_at", type_=AwareDateTime())
    taken = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("pid"),
                                    PRODUCTS.c.stock >= bindparam("q"))
             .values(stock=PRODUCTS.c.stock - bindparam("q"), updated_at=at)
             .returning(PRODUCTS.c.id).cte("taken"))
    return (outbox.INSERT.from_select(["kind", "entity_id", "created_at"], select(
        bindparam("outbox_product", type_=String()), taken.c.id, at))
            .returning(outbox.INSERT.table.c.entity_id))


PG_TAKE_STOCK = _pg_take_stock()

# ---- twin orders.one_order (PostgreSQL) ---------------------------------------------------------
ORDER_COLUMNS = [c.key for c in ORDERS.c if c.key != "id"]
LINE_COLUMNS = ["product_id", "name", "spec", "unit_price_fen", "quantity", "amount_fen"]


@functools.lru_cache(maxsize=64)
def pg_one_order(line_count: int):
    """An order, its `line_count` lines and its 'created' event in one statement (parameters
    o_<column>, l<i>_<column> and ORDER_PARAMS); returns (order_id, id, product_id) per line."""
    lines = " UNION ALL ".join(
        "SELECT id, " + ", ".join(f":l{i}_{c}" for c in LINE_COLUMNS) + " FROM new_order"
        for i in range(line_count))
    return text(
        f"WITH new_order AS (INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) "
        f"VALUES ({', '.join(':o_' + c for c in ORDER_COLUMNS)}) RETURNING id), "
        "created_event AS (INSERT INTO order_events (order_id, kind, from_status, to_status, "
        "actor_id, note, created_at) SELECT id, :ev_created, '', :st_pending, :o_buyer_id, "
        "'', :o_created_at FROM new_order) "
        f"INSERT INTO order_lines (order_id, {', '.join(LINE_COLUMNS)}) {lines} "
        "RETURNING order_id, id, product_id")
