"""The SQL of the order hot paths (checkout, reading an order), built once: a statement object
caches its compiled form and cache key, so running one costs no compilation. One statement for
both engines each: TAKE_STOCK (a product's free units, only while enough are left, into its
held units), PUT_BACK_STOCK (held back to free), SELL_HELD (a paid order's held units leave:
sold), INSERT_ORDERS / INSERT_LINES / INSERT_EVENTS, INSERT_CHECKOUT, and the reads. Every
statement keeps what the seller holds (on hand) = stock + held.
(The PostgreSQL twins that took the stock with its outbox row, and wrote an order with its
lines and event, in one statement each made bench/checkout.py no faster: docs/architecture.md.)
"""
from __future__ import annotations

from sqlalchemy import bindparam, select, text, update

from marketplace.catalog.models import Product
from marketplace.core.models import AwareDateTime
from marketplace.orders.models import (
    Checkout,
    Order,
    OrderEvent,
    OrderLine,
)
from marketplace.regions.models import Region
from marketplace.sellers.models import Seller

# the tables the hot paths write with Core statements
CHECKOUTS = Checkout.__table__
ORDERS = Order.__table__
LINES = OrderLine.__table__
EVENTS = OrderEvent.__table__
PRODUCTS = Product.__table__
REGIONS = Region.__table__
SELLERS = Seller.__table__

# Bound parameters of UPDATE statements are named unlike any column ("p_..."): SQLAlchemy would add
# a SET for a parameter named after a column of the table.
TAKE_STOCK = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("pid"),
                                     PRODUCTS.c.stock >= bindparam("q"))
              .values(stock=PRODUCTS.c.stock - bindparam("q"),
                      held=PRODUCTS.c.held + bindparam("q"),
                      updated_at=bindparam("p_at", type_=AwareDateTime())))
PUT_BACK_STOCK = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("pid"))
                  .values(stock=PRODUCTS.c.stock + bindparam("q"),
                          held=PRODUCTS.c.held - bindparam("q")))
SELL_HELD = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("pid"))
             .values(held=PRODUCTS.c.held - bindparam("q")))
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
