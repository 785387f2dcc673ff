"""The SQL of recording a captured payment, built once (a statement object caches its compiled
form). Statuses and event kinds are bound parameters taken from the enums, never typed here.

One statement for both engines each: INSERT_PAYMENT (INSERT ... ON CONFLICT DO NOTHING
RETURNING id: no row when the provider's reference was recorded before; the order's payment, or
a capture whose refund is due, with its reason), MARK_PAID (the order, only while it waits for
payment), INSERT_PAID_EVENT. (A PostgreSQL twin writing the three in
one statement made bench/checkout.py no faster: docs/architecture.md.)
"""
from __future__ import annotations

from sqlalchemy import BigInteger, String, bindparam, false, null, select, text, update

from marketplace.core.models import AwareDateTime
from marketplace.orders.models import OrderEvent, OrderEventKind, OrderStatus
from marketplace.orders.sql import EVENT_COLUMNS, EVENTS, ORDERS
from marketplace.payments.models import PaymentStatus

# the bound values every statement here shares (params() adds them)
STATUS_PARAMS = {"st_pending": OrderStatus.pending_payment.value,
                 "st_paid": OrderStatus.paid.value, "ev_paid": OrderEventKind.paid.value,
                 "st_succeeded": PaymentStatus.succeeded.value,
                 "st_refund_due": PaymentStatus.refund_due.value}
_AT = bindparam("created_at", type_=AwareDateTime())
# parameters of Core INSERT and UPDATE statements are named unlike any column ("p_..."):
# SQLAlchemy reserves a column's name for its own VALUES or SET (params() gives both names)
_P_AT = bindparam("p_at", type_=AwareDateTime())
_P_ORDER = bindparam("p_order", type_=BigInteger())
_PENDING, _PAID = bindparam("st_pending", type_=String()), bindparam("st_paid", type_=String())

# Written as SQL text: SQLAlchemy does not cache its dialect-specific INSERT constructs (the
# ON CONFLICT clause), and compiling one costs more than running it.
_NEW_PAYMENT = (
    "INSERT INTO payments (order_id, provider, reference, amount_fen, currency, status, reason, "
    "refund_reference, created_at) VALUES (:order_id, :provider, :reference, :amount_fen, "
    ":currency, :status, :reason, '', :created_at) "
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
    """The parameters of the statements here for the order's payment `row` (its columns) and
    the 'paid' event's `note`: (for the SQL text ones, for the Core ones, which must get no
    parameter named like a column: an UPDATE would SET it)."""
    core = {**STATUS_PARAMS, "p_order": row["order_id"], "p_amount": row["amount_fen"],
            "p_at": row["created_at"], "p_note": note}
    return {**row, **core, "status": core["st_succeeded"], "reason": ""}, core


def due_params(row: dict, reason: str) -> dict:
    """The parameters of INSERT_PAYMENT for a capture whose refund is due, and why."""
    return {**row, "status": STATUS_PARAMS["st_refund_due"], "reason": reason}
