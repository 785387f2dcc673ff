"""Recording a captured payment: the one road every provider's confirmation takes (the
simulated page, a Stripe webhook, a confirmed bank transfer).

`record(session, payable, capture)` is written once for anything money can be paid for (a
`Payable`): it records the capture once per (provider, reference), so a confirmation delivered
again answers the payment recorded the first time; refuses an amount or currency that is not
the one due (`amount_mismatch`); records money the payable can no longer take as a payment to
refund (the caller pays it back through the provider); else lets the payable take it (the
payment row and the payable marked paid) and post what follows (an order's households'
income, in the same transaction).

Today's payable is a cart order (`payables.OrderPayable`; `record_payment` is the shortcut);
a unit's consolidated group-purchase order is an order too, and a donation to a pool will be a
payable of its own, recorded by the same code. Services never commit: the caller does.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core.db import attach, loaded
from marketplace.core.errors import IllegalTransition, RuleBroken
from marketplace.core.time import now_utc
from marketplace.orders.models import Order
from marketplace.payments.models import Payment, PaymentStatus


@dataclass(frozen=True)
class Capture:
    """A provider's word that money was captured."""
    provider: str
    reference: str  # the provider's id of the money (unique per provider)
    amount_fen: int
    currency: str  # upper case
    at: datetime


@dataclass
class PaymentOutcome:
    payment: Payment
    order: Order | None  # the order paid for (None for a payable that is not an order)
    duplicate: bool = False  # this confirmation had been recorded before
    refunded: bool = False  # the payable could not take the money: it goes back


class Payable(Protocol):
    """Something money can be captured for."""

    order: Order | None

    def payment_columns(self) -> dict:
        """The payments row's link to the payable (today: {"order_id": ...})."""

    def awaits(self, at: datetime) -> bool:
        """Whether it waits for this payment as it is (false: most likely a confirmation seen
        before, or a late one)."""

    def amount_due(self) -> tuple[int, str]:
        """(amount in fen, currency)."""

    def make_ready(self, session: Session, capture: Capture) -> str | None:
        """Get ready to take the money; the reason it cannot (the money goes back), or None.
        May raise IllegalTransition (it is not payable at all)."""

    def take(self, session: Session, row: dict) -> tuple[int | None, bool]:
        """Insert the payment `row` unless its reference was recorded before, and mark the
        payable paid: (the payment's id or None, whether it was marked)."""

    def after_paid(self, session: Session, capture: Capture) -> None:
        """What follows a payment in the same transaction (the ledger posting)."""

    def turned_away(self, session: Session, capture: Capture, why: str) -> None:
        """Tell whom it concerns that the money goes back, and why."""


def record(session: Session, payable: Payable, capture: Capture) -> PaymentOutcome:
    """Record `capture` for `payable` (see the module's docstring)."""
    if not payable.awaits(capture.at):
        # not the usual case: a confirmation delivered again, or one it cannot take as it is
        existing = find(session, capture.provider, capture.reference)
        if existing is not None:
            return _seen_before(existing, payable)
    due, currency = payable.amount_due()
    if capture.currency != currency or capture.amount_fen != due:
        raise RuleBroken("付款金额或币种与订单不符，未入账", code="amount_mismatch",
                         details={"expected": due, "received": capture.amount_fen})
    why = payable.make_ready(session, capture)
    if why:
        return _turned_away(session, payable, capture, why)
    row = {**payable.payment_columns(), "provider": capture.provider,
           "reference": capture.reference, "amount_fen": capture.amount_fen,
           "currency": capture.currency, "created_at": capture.at}
    payment_id, marked = payable.take(session, row)
    if payment_id is None:  # the same confirmation, recorded by a concurrent request just now
        return _seen_before(find(session, capture.provider, capture.reference), payable)
    if not marked:  # changed by a concurrent request
        raise IllegalTransition("订单状态刚刚发生变化，请刷新后重试")
    payable.after_paid(session, capture)
    payment = loaded(Payment, {**row, "id": payment_id, "status": PaymentStatus.succeeded,
                               "refund_reference": ""})
    return PaymentOutcome(attach(session, payment), payable.order)


def record_payment(session: Session, order: Order, *, provider: str, reference: str,
                   amount_fen: int, currency: str, now: datetime | None = None) -> PaymentOutcome:
    """A provider says money was captured for a cart order: `record` with an OrderPayable."""
    from marketplace.payments.payables import OrderPayable
    return record(session, OrderPayable(order), Capture(
        provider, reference, amount_fen, (currency or "").upper(), now or now_utc()))


def find(session: Session, provider: str, reference: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.provider == provider,
                                                Payment.reference == reference))


def _seen_before(existing: Payment, payable: Payable) -> PaymentOutcome:
    return PaymentOutcome(existing, payable.order, duplicate=True,
                          refunded=existing.status == PaymentStatus.refunded)


def _turned_away(session: Session, payable: Payable, capture: Capture,
                 why: str) -> PaymentOutcome:
    """Money arrived that the payable cannot take: recorded as to be refunded (the caller pays
    it back through the provider), and whom it concerns is told why."""
    payment = Payment(**payable.payment_columns(), provider=capture.provider,
                      reference=capture.reference, amount_fen=capture.amount_fen,
                      currency=capture.currency, status=PaymentStatus.refunded,
                      created_at=capture.at)
    session.add(payment)
    payable.turned_away(session, capture, why)
    session.flush()
    return PaymentOutcome(payment, payable.order, refunded=True)
