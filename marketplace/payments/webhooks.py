"""Provider notifications: each event is recorded once by its id, then applied. A replayed or
late event finds its row (or an order that moved on) and changes nothing twice.

Every capture an event reports takes `capture.record`: the order's one payment, or money whose
refund is due. The answer names that refund (`EventResult.refund_due`) whether the event is new
or delivered again, so that the caller, after committing, pays it back (`payback.settle`): a
redelivery retries a refund the provider could not make before."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.core.inputs import id_value
from marketplace.orders.models import Order
from marketplace.payments.capture import find, record_payment
from marketplace.payments.models import PaymentEvent, PaymentStatus

log = logging.getLogger(__name__)
PAID_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")


@dataclass(frozen=True)
class EventResult:
    outcome: str  # what happened (also stored on the event row)
    refund_due: int | None = None  # the id of the payment this event's capture makes go back


def handle_stripe_event(session: Session, event: dict, *,
                        now: datetime | None = None) -> EventResult:
    """Apply one verified Stripe event (see the module's docstring)."""
    event_id, kind = str(event.get("id", "")), str(event.get("type", ""))
    obj = (event.get("data") or {}).get("object") or {}
    if session.scalar(select(PaymentEvent.id).where(PaymentEvent.provider == "stripe",
                                                    PaymentEvent.event_id == event_id)):
        return EventResult("duplicate", _due(session, kind, obj))
    order_id = _order_id(obj)
    row = PaymentEvent(provider="stripe", event_id=event_id, kind=kind[:64],
                       order_id=order_id if order_id and session.get(Order, order_id) else None)
    savepoint = session.begin_nested()
    try:
        session.add(row)
        session.flush()
    except IntegrityError:  # the same event delivered twice at the same moment
        savepoint.rollback()
        return EventResult("duplicate", _due(session, kind, obj))
    savepoint.commit()
    result = _apply(session, kind, obj, row.order_id, now)
    row.outcome = result.outcome
    session.flush()
    return result


def _order_id(obj: dict) -> int | None:
    """The order the metadata names, when it is an id the database can hold."""
    return id_value((obj.get("metadata") or {}).get("order_id"))


def _reference(obj: dict) -> str:
    """The provider's id of the money: the PaymentIntent (the session's id if there is none)."""
    return str(obj.get("payment_intent") or obj.get("id"))


def _due(session: Session, kind: str, obj: dict) -> int | None:
    """The payment recorded for this event's capture, if its refund is still due."""
    if kind not in PAID_EVENTS:
        return None
    payment = find(session, "stripe", _reference(obj))
    return payment.id if payment and payment.status == PaymentStatus.refund_due else None


def _apply(session, kind, obj, order_id, now) -> EventResult:
    if kind not in PAID_EVENTS:
        return EventResult("ignored")  # e.g. checkout.session.expired: our window frees stock
    if obj.get("payment_status") != "paid":
        return EventResult("not_paid_yet")
    if order_id is None:
        log.error("a paid Stripe checkout session names no order of ours: %s", obj.get("id"))
        return EventResult("unknown_order")
    amount, currency = obj.get("amount_total"), str(obj.get("currency") or "")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0 \
            or len(currency) != 3:
        log.error("a paid Stripe checkout session with amount %r %r: %s", amount, currency,
                  obj.get("id"))
        return EventResult("bad_amount")
    outcome = record_payment(session, session.get(Order, order_id), provider="stripe",
                             reference=_reference(obj), amount_fen=amount, currency=currency,
                             now=now)
    payment = outcome.payment
    due = payment.id if payment.status == PaymentStatus.refund_due else None
    if outcome.duplicate:
        return EventResult("duplicate_payment", due)
    if outcome.refunded:
        return EventResult(payment.reason, due)  # a TurnedAway value: why it goes back
    return EventResult("paid")
