"""The SQL of the hot paths (creating an order, recording its payment, reading an order), built
once: a statement object caches its compiled form and cache key, so running one costs no
compilation. `orders.services` runs them; the PostgreSQL-only ones write several tables in one
statement (data-modifying CTEs), SQLite runs the same steps one by one.
"""
from __future__ import annotations

import functools

from sqlalchemy import (
    BigInteger,
    String,
    bindparam,
    false,
    literal_column,
    null,
    select,
    text,
    update,
)

from marketplace.catalog.models import Product
from marketplace.core.models import AwareDateTime
from marketplace.orders.models import Checkout, Order, OrderEvent, OrderLine, OrderStatus, Payment
from marketplace.regions.models import Region
from marketplace.search import outbox
from marketplace.search.models import OutboxKind
from marketplace.sellers.models import Seller

# the tables the hot paths (checkout, payment) write with Core statements
CHECKOUTS = Checkout.__table__
ORDERS = Order.__table__
LINES = OrderLine.__table__
EVENTS = OrderEvent.__table__
PAYMENTS = Payment.__table__
PRODUCTS = Product.__table__
REGIONS = Region.__table__
SELLERS = Seller.__table__

# Bound parameters of UPDATE statements are named unlike any column ("p_..."): SQLAlchemy would add a SET for a
# parameter named after a column of the table.
TAKE_STOCK = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("pid"),
                                     PRODUCTS.c.stock >= bindparam("q"))
              .values(stock=PRODUCTS.c.stock - bindparam("q")))
PUT_BACK_STOCK = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("pid"))
                  .values(stock=PRODUCTS.c.stock + bindparam("q")))
INSERT_ORDERS = ORDERS.insert().returning(ORDERS.c.id, sort_by_parameter_order=True)
INSERT_LINES = LINES.insert().returning(LINES.c.id, sort_by_parameter_order=True)
INSERT_EVENTS = EVENTS.insert()


def _sql_text(value: str):
    """A constant of ours as an SQL string literal (CTE statements below keep no anonymous
    parameters)."""
    assert "'" not in value
    return literal_column(f"'{value}'", String())


_AT = bindparam("p_at", type_=AwareDateTime())
_ORDER = bindparam("p_order", type_=BigInteger())
MARK_PAID = (update(ORDERS).where(ORDERS.c.id == _ORDER,
                                  ORDERS.c.status == _sql_text(OrderStatus.pending_payment))
             .values(status=_sql_text(OrderStatus.paid), paid_fen=bindparam("p_amount"),
                     paid_at=_AT, updated_at=_AT, reserved_until=null(), stock_held=false()))
EVENT_COLUMNS = ["order_id", "kind", "from_status", "to_status", "actor_id", "note",
                 "created_at"]
_PAID_EVENT = (_sql_text("paid"), _sql_text(OrderStatus.pending_payment),
               _sql_text(OrderStatus.paid), null(), bindparam("p_note", type_=String()), _AT)
INSERT_PAID_EVENT = EVENTS.insert().from_select(EVENT_COLUMNS, select(_ORDER, *_PAID_EVENT))
# INSERT ... ON CONFLICT DO NOTHING RETURNING id (PostgreSQL and SQLite): no row when the key
# was taken before (PostgreSQL waits for a concurrent insert of the same key to end). Written as
# SQL: SQLAlchemy does not cache its dialect-specific INSERT constructs, and compiling one costs
# more than running it.
_AT_TYPED = bindparam("created_at", type_=AwareDateTime())
INSERT_CHECKOUT = text(
    "INSERT INTO checkouts (buyer_id, idempotency_key, fingerprint, created_at) "
    "VALUES (:buyer_id, :idempotency_key, :fingerprint, :created_at) "
    "ON CONFLICT (buyer_id, idempotency_key) DO NOTHING RETURNING id").bindparams(_AT_TYPED)
_NEW_PAYMENT = (
    "INSERT INTO payments (order_id, provider, reference, amount_fen, currency, status, "
    "refund_reference, created_at) VALUES (:order_id, :provider, :reference, :amount_fen, "
    ":currency, :status, :refund_reference, :created_at) "
    "ON CONFLICT (provider, reference) DO NOTHING RETURNING id")
INSERT_PAYMENT = text(_NEW_PAYMENT).bindparams(_AT_TYPED)
# PostgreSQL: the payment, its order marked paid (if it still waits), the 'paid' event and the
# notices in one statement (data-modifying CTEs see each other's RETURNING rows)
PG_PAY = text(
    f"WITH new_payment AS ({_NEW_PAYMENT}), "
    "paid_order AS (UPDATE orders SET status = 'paid', paid_fen = :amount_fen, "
    "paid_at = :created_at, updated_at = :created_at, reserved_until = NULL, stock_held = false "
    "WHERE id = :order_id AND status = 'pending_payment' "
    "AND EXISTS (SELECT 1 FROM new_payment) RETURNING id), "
    "paid_event AS (INSERT INTO order_events (order_id, kind, from_status, to_status, actor_id, "
    "note, created_at) SELECT id, 'paid', 'pending_payment', 'paid', NULL, :note, :created_at "
    "FROM paid_order), "
    # as notices.TO_BUYER_AND_STAFF
    "paid_notices AS (INSERT INTO notifications (user_id, text, url, created_at) "
    "SELECT :buyer_id, :buyer_text, :buyer_url, :created_at FROM paid_order UNION ALL "
    "SELECT DISTINCT user_id, :seller_text, :seller_url, :created_at FROM role_grants "
    "WHERE role = 'seller_staff' AND seller_id = :seller_id "
    "AND EXISTS (SELECT 1 FROM paid_order)) "
    "SELECT (SELECT id FROM new_payment) AS payment_id, "
    "EXISTS (SELECT 1 FROM paid_order) AS marked, "
    # the attribution terms of the order's products, for ledger.posting (saves it a read)
    "(SELECT json_agg(json_build_array(p.id, p.household_share_bp, p.lot_backed)) "
    "FROM products AS p WHERE p.id IN (SELECT product_id FROM order_lines "
    "WHERE order_id = :order_id)) AS terms").bindparams(_AT_TYPED)


def _pg_take_stock():
    """PostgreSQL takes a product's units and writes its search-outbox row in one statement."""
    taken = (update(PRODUCTS).where(PRODUCTS.c.id == bindparam("pid"),
                                    PRODUCTS.c.stock >= bindparam("q"))
             .values(stock=PRODUCTS.c.stock - bindparam("q"), updated_at=_AT)
             .returning(PRODUCTS.c.id).cte("taken"))
    return (outbox.INSERT.from_select(["kind", "entity_id", "created_at"],
                                      select(_sql_text(OutboxKind.product), taken.c.id, _AT))
            .returning(outbox.INSERT.table.c.entity_id))


PG_TAKE_STOCK = _pg_take_stock()
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


ORDER_COLUMNS = [c.key for c in ORDERS.c if c.key != "id"]
LINE_COLUMNS = ["product_id", "name", "spec", "unit_price_fen", "quantity", "amount_fen"]


@functools.lru_cache(maxsize=64)
def pg_one_order(line_count: int):
    """PostgreSQL: an order, its `line_count` lines and its 'created' event in one statement
    (parameters o_<column> and l<i>_<column>); returns (order_id, id, product_id) per line."""
    lines = " UNION ALL ".join(
        "SELECT id, " + ", ".join(f":l{i}_{c}" for c in LINE_COLUMNS) + " FROM new_order"
        for i in range(line_count))
    return text(
        f"WITH new_order AS (INSERT INTO orders ({', '.join(ORDER_COLUMNS)}) "
        f"VALUES ({', '.join(':o_' + c for c in ORDER_COLUMNS)}) RETURNING id), "
        "created_event AS (INSERT INTO order_events (order_id, kind, from_status, to_status, "
        "actor_id, note, created_at) SELECT id, 'created', '', 'pending_payment', :o_buyer_id, "
        "'', :o_created_at FROM new_order) "
        f"INSERT INTO order_lines (order_id, {', '.join(LINE_COLUMNS)}) {lines} "
        "RETURNING order_id, id, product_id")
