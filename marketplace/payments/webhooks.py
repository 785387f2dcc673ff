"""Provider notifications: each event is recorded once by its id, then applied. A replayed or
late event finds its row (or an order that moved on) and changes nothing twice."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.core.errors import IllegalTransition, RuleBroken
from marketplace.orders.models import Order
from marketplace.payments.capture import record_payment
from marketplace.payments.models import Payment, PaymentEvent, PaymentStatus

log = logging.getLogger(__name__)
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


def handle_stripe_event(session: Session, event: dict, provider, *,
                        now: datetime | None = None) -> str:
    """Apply one verified Stripe event; returns what happened (also stored on the event row)."""
    event_id, kind = str(event.get("id", "")), str(event.get("type", ""))
    if session.scalar(select(PaymentEvent.id).where(PaymentEvent.provider == "stripe",
                                                    PaymentEvent.event_id == event_id)):
        return "duplicate"
    obj = (event.get("data") or {}).get("object") or {}
    order_id = _order_id(obj)
    row = PaymentEvent(provider="stripe", event_id=event_id, kind=kind[:64],
                       order_id=order_id if order_id and session.get(Order, order_id) else None)
    savepoint = session.begin_nested()
    try:
        session.add(row)
        session.flush()
    except IntegrityError:  # the same event delivered twice at the same moment
        savepoint.rollback()
        return "duplicate"
    savepoint.commit()
    row.outcome = _apply(session, kind, obj, row.order_id, provider, now)
    session.flush()
    return row.outcome


def _order_id(obj: dict) -> int | None:
    try:
        return int((obj.get("metadata") or {}).get("order_id"))
    except (TypeError, ValueError):
        return None


def _apply(session, kind, obj, order_id, provider, now) -> str:
    if kind not in PAID_EVENTS:
        return "ignored"  # e.g. checkout.session.expired: our own window releases the stock
    if obj.get("payment_status") != "paid":
        return "not_paid_yet"
    if order_id is None:
        return "unknown_order"
    order = session.get(Order, order_id)
    reference = str(obj.get("payment_intent") or obj.get("id"))
    amount, currency = obj.get("amount_total"), str(obj.get("currency") or "")
    if not isinstance(amount, int):
        return "bad_amount"
    try:
        outcome = record_payment(session, order, provider="stripe", reference=reference,
                                 amount_fen=amount, currency=currency, now=now)
    except RuleBroken:  # not the order's amount or currency: the money goes back
        payment = Payment(order_id=order.id, provider="stripe", reference=reference,
                          amount_fen=max(amount, 1), currency=currency.upper()[:3],
                          status=PaymentStatus.refunded)
        session.add(payment)
        session.flush()
        _pay_back(provider, payment, amount)
        return "amount_mismatch"
    except IllegalTransition:
        return "not_payable"
    if outcome.duplicate:
        return "duplicate_payment"
    if outcome.refunded:
        _pay_back(provider, outcome.payment, amount)
        return "refunded"
    return "paid"


def _pay_back(provider, payment: Payment, amount: int) -> None:
    payment.refund_reference = provider.refund(payment.reference, amount,
                                               idempotency_key=f"auto-refund-{payment.id}")
