"""The SQL of recording a captured payment, built once (a statement object caches its compiled
form). Statuses and event kinds are bound parameters taken from the enums, never typed here.

Portable (both engines): INSERT_PAYMENT (INSERT ... ON CONFLICT DO NOTHING RETURNING id: no
row when the provider's reference was recorded before), MARK_PAID (the order, only while it
waits for payment), INSERT_PAID_EVENT.

Twin `payments.pay` (PostgreSQL, PG_PAY): the same three writes in one statement
(data-modifying CTEs see each other's RETURNING rows), which also answers the attribution
terms of the order's products for ledger.posting. Kept on bench/checkout.py's figures (see
docs/architecture.md); `test_sql_twins` proves it writes the same rows as the portable steps.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, String, bindparam, false, null, select, text, update

from marketplace.core.models import AwareDateTime
from marketplace.orders.models import OrderEvent, OrderEventKind, OrderStatus
from marketplace.orders.sql import EVENT_COLUMNS, EVENTS, ORDERS
from marketplace.payments.models import PaymentStatus

# the bound values every statement here shares (status_params() gives them)
STATUS_PARAMS = {"st_pending": OrderStatus.pending_payment.value,
                 "st_paid": OrderStatus.paid.value, "ev_paid": OrderEventKind.paid.value,
                 "st_succeeded": PaymentStatus.succeeded.value}
_AT = bindparam("created_at", type_=AwareDateTime())
# parameters of Core INSERT and UPDATE statements are named unlike any column ("p_..."):
# SQLAlchemy reserves a column's name for its own VALUES or SET (params() gives both names)
_P_AT = bindparam("p_at", type_=AwareDateTime())
_P_ORDER = bindparam("p_order", type_=BigInteger())
_PENDING, _PAID = bindparam("st_pending", type_=String()), bindparam("st_paid", type_=String())

# ---- portable -----------------------------------------------------------------------------------
# Written as SQL text: SQLAlchemy does not cache its dialect-specific INSERT constructs (the
# ON CONFLICT clause), and compiling one costs more than running it.
_NEW_PAYMENT = (
    "INSERT INTO payments (order_id, provider, reference, amount_fen, currency, status, "
    "refund_reference, created_at) VALUES (:order_id, :provider, :reference, :amount_fen, "
    ":currency, :st_succeeded, '', :created_at) "
    "ON CONFLICT (provider, reference) DO NOTHING RETURNING id")
INSERT_PAYMENT = text(_NEW_PAYMENT).bindparams(_AT)
MARK_PAID = (update(ORDERS).where(ORDERS.c.id == _P_ORDER, ORDERS.c.status == _PENDING)
             .values(status=_PAID, paid_fen=bindparam("p_amount"), paid_at=_P_AT,
                     updated_at=_P_AT, reserved_until=null(), stock_held=false()))
INSERT_PAID_EVENT = EVENTS.insert().from_select(EVENT_COLUMNS, select(
    _P_ORDER, bindparam("ev_paid", type_=String()), _PENDING, _PAID, null(),
    bindparam("p_note", type_=String()), _P_AT))
assert OrderEvent.__table__ is EVENTS


def params(row: dict, note: str) -> tuple[dict, dict]:
    """The parameters of the statements here for the payment `row` (its columns) and the 'paid'
    event's `note`: (for the SQL text ones, for the Core ones, which must get no parameter
    named like a column: an UPDATE would SET it)."""
    core = {**STATUS_PARAMS, "p_order": row["order_id"], "p_amount": row["amount_fen"],
            "p_at": row["created_at"], "p_note": note}
    return {**row, **core}, core

# ---- twin payments.pay (PostgreSQL) -------------------------------------------------------------
PG_PAY = text(
    f"WITH new_payment AS ({_NEW_PAYMENT}), "
    "paid_order AS (UPDATE orders SET status = :st_paid, paid_fen = :amount_fen, "
    "paid_at = :created_at, updated_at = :created_at, reserved_until = NULL, stock_held = false "
    "WHERE id = :order_id AND status = :st_pending "
    "AND EXISTS (SELECT 1 FROM new_payment) RETURNING id), "
    "paid_event AS (INSERT INTO order_events (order_id, kind, from_status, to_status, actor_id, "
    "note, created_at) SELECT id, :ev_paid, :st_pending, :st_paid, NULL, :p_note, :created_at "
    "FROM paid_order) "
    "SELECT (SELECT id FROM new_payment) AS payment_id, "
    "EXISTS (SELECT 1 FROM paid_order) AS marked, "
    # the attribution terms of the order's products, for ledger.posting (saves it a read)
    "(SELECT json_agg(json_build_array(p.id, p.household_share_bp, p.lot_backed)) "
    "FROM products AS p WHERE p.id IN (SELECT product_id FROM order_lines "
    "WHERE order_id = :order_id)) AS terms").bindparams(_AT)
