"""Recording a captured payment: the one road every provider's confirmation takes (the
simulated page, a Stripe webhook, a confirmed bank transfer).

`record(session, payable, capture)` is written once for anything money can be paid for (a
`Payable`). Every capture ends as exactly one payments row, unique on (provider, reference), so
a confirmation delivered again answers the row recorded the first time. The row is either the
payable's one payment (the payable marked paid, what follows posted in the same transaction:
an order's households' income) or money that goes back (status refund_due, with its reason):
an amount or currency not the one due, a payable paid by another payment meanwhile, cancelled,
or late with its units gone. Whom it concerns is told; the caller commits and then pays it
back through the provider (`payback.settle`), or a later delivery or the cron does.

Today's payable is a cart order (`payables.OrderPayable`; `record_payment` is the shortcut);
a unit's consolidated group-purchase order is an order too, and a donation to a pool will be a
payable of its own, recorded by the same code. A group purchase's settlement makes its orders
already paid, in bulk, with captures taken before: `record_settled` records those payments and
posts them. Services never commit: the caller does.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.core.db import attach, insert_many, loaded
from marketplace.core.errors import IllegalTransition
from marketplace.core.time import now_utc
from marketplace.ledger import posting
from marketplace.orders.models import Order, OrderEvent, OrderEventKind, OrderStatus
from marketplace.payments.models import Payment, PaymentStatus, TurnedAway
from marketplace.payments.sql import INSERT_PAYMENT, due_params


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
    refunded: bool = False  # the payable could not take the money: it goes back (payment.reason)


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

    def make_ready(self, session: Session, capture: Capture) -> TurnedAway | None:
        """Get ready to take the money; the reason it cannot (the money goes back), or None."""

    def take(self, session: Session, row: dict) -> tuple[int | None, bool]:
        """Insert the payment `row` unless its reference was recorded before, and mark the
        payable paid: (the payment's id or None, whether it was marked)."""

    def changed(self, session: Session) -> TurnedAway | None:
        """After `take` could not mark it (a concurrent request changed it): read it again and
        say why it cannot take money now, or None when it is not clear (try again later)."""

    def after_paid(self, session: Session, capture: Capture) -> None:
        """What follows a payment in the same transaction (the ledger posting)."""

    def turned_away(self, session: Session, capture: Capture, why: TurnedAway) -> None:
        """Tell whom it concerns that the money goes back, and why."""


def record(session: Session, payable: Payable, capture: Capture) -> PaymentOutcome:
    """Record `capture` for `payable` (see the module's docstring)."""
    if not payable.awaits(capture.at):
        # not the usual case: a confirmation delivered again, or one it cannot take as it is
        existing = find(session, capture.provider, capture.reference)
        if existing is not None:
            return _seen_before(existing, payable)
    row = {**payable.payment_columns(), "provider": capture.provider,
           "reference": capture.reference, "amount_fen": capture.amount_fen,
           "currency": capture.currency, "created_at": capture.at}
    due, currency = payable.amount_due()
    if capture.currency != currency or capture.amount_fen != due:
        return _turned_away(session, payable, capture, row, TurnedAway.amount_mismatch)
    why = payable.make_ready(session, capture)
    if why:
        return _turned_away(session, payable, capture, row, why)
    payment_id, marked = payable.take(session, row)
    if payment_id is None:  # the same confirmation, recorded by a concurrent request just now
        return _seen_before(find(session, capture.provider, capture.reference), payable)
    if not marked:  # another payment or a cancellation came first: this money goes back
        why = payable.changed(session)
        if why is None:
            raise IllegalTransition("订单状态刚刚发生变化，请刷新后重试")
        session.execute(update(Payment).where(Payment.id == payment_id).values(
            status=PaymentStatus.refund_due, reason=why.value))
        return _told(session, payable, capture, payment_id, why)
    payable.after_paid(session, capture)
    payment = loaded(Payment, {**row, "id": payment_id, "status": PaymentStatus.succeeded,
                               "refund_reference": "", "reason": ""})
    return PaymentOutcome(attach(session, payment), payable.order)


def record_payment(session: Session, order: Order, *, provider: str, reference: str,
                   amount_fen: int, currency: str, now: datetime | None = None) -> PaymentOutcome:
    """A provider says money was captured for a cart order: `record` with an OrderPayable."""
    from marketplace.payments.payables import OrderPayable
    return record(session, OrderPayable(order), Capture(
        provider, reference, amount_fen, (currency or "").upper(), now or now_utc()))


def record_settled(session: Session, orders: Sequence[Order], captures: Sequence[Capture]
                   ) -> None:
    """Captures that become the one payment of orders made already paid (a group purchase's
    settlement: each participant's capture, for the order's final amount, the rest of it
    refunded by the caller): one payments row (succeeded) and one 'paid' event per order, in
    bulk, then the orders' lines posted to the ledger in this transaction, as `record` posts
    one order's. The caller made the orders (paid, their units sold) and commits."""
    if not orders:
        return
    conn = session.connection()
    insert_many(conn, Payment.__table__, [
        {"order_id": order.id, "provider": c.provider, "reference": c.reference,
         "amount_fen": order.paid_fen, "currency": c.currency,
         "status": PaymentStatus.succeeded.value, "refund_reference": "", "reason": "",
         "refund_attempts": 0, "refund_error": "", "created_at": c.at}
        for order, c in zip(orders, captures, strict=True)])
    insert_many(conn, OrderEvent.__table__, [
        {"order_id": order.id, "kind": OrderEventKind.paid.value,
         "from_status": OrderStatus.pending_payment.value, "to_status": OrderStatus.paid.value,
         "actor_id": None, "note": f"{c.provider} {c.reference}", "created_at": c.at}
        for order, c in zip(orders, captures, strict=True)])
    posting.post_sales(session, list(orders), captures[0].at)


def find(session: Session, provider: str, reference: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.provider == provider,
                                                Payment.reference == reference))


def _seen_before(existing: Payment, payable: Payable) -> PaymentOutcome:
    return PaymentOutcome(existing, payable.order, duplicate=True,
                          refunded=existing.status != PaymentStatus.succeeded)


def _turned_away(session: Session, payable: Payable, capture: Capture, row: dict,
                 why: TurnedAway) -> PaymentOutcome:
    """Money arrived that the payable cannot take: recorded once as a payment whose refund is
    due (the caller pays it back through the provider after committing), and whom it concerns
    is told why."""
    payment_id = session.connection().execute(INSERT_PAYMENT, due_params(row, why.value)).scalar()
    if payment_id is None:  # recorded by a concurrent delivery just now
        return _seen_before(find(session, capture.provider, capture.reference), payable)
    return _told(session, payable, capture, payment_id, why)


def _told(session: Session, payable: Payable, capture: Capture, payment_id: int,
          why: TurnedAway) -> PaymentOutcome:
    payable.turned_away(session, capture, why)
    session.flush()
    payment = session.get(Payment, payment_id, populate_existing=True)
    return PaymentOutcome(payment, payable.order, refunded=True)
