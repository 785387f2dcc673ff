"""Paying back a capture its order could not take, through the provider that took it, exactly
once. `capture.record` wrote it as a payment whose refund is due (status refund_due, with its
reason): one row per (provider, reference), whatever number of deliveries.

`settle(session, payment_id, providers, commit=...)` pays one back:

1. it claims the row: one UPDATE that only one caller wins (refund due, no live claim), counting
   the attempt; `commit` (the caller's) ends the transaction, so no database lock is held while
   the provider is called;
2. the provider's refund, with an idempotency key made from the payment's provider and
   reference (`refund_key`): a call repeated after a lost answer gets the same refund back;
3. the outcome, written only while the refund is still due: refunded (the provider's refund id
   and when, the order's 'payment_refunded' event, the buyer told), or still due with the
   error kept and the claim released, for the next delivery of the provider's notification or
   `flask payments retry-refunds` (the cron). A claim whose holder died lapses after CLAIM_FOR.

`due_ids` lists what the cron retries. Callers are entry points (the Stripe webhook, the API's
payment, the CLI); the commits are theirs, given as `commit`.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.orders import notices
from marketplace.orders.models import Order, OrderEvent, OrderEventKind
from marketplace.payments.models import TURNED_AWAY_LABELS, Payment, PaymentStatus, TurnedAway
from marketplace.payments.payables import shown

log = logging.getLogger(__name__)
PAYMENTS = Payment.__table__
CLAIM_FOR = timedelta(minutes=5)  # longer than a provider call with its retries can take


class Settled(StrEnum):
    refunded = "refunded"  # paid back, now or before
    failed = "failed"  # the provider could not be reached, or refused: still due
    busy = "busy"  # another process is paying it back right now
    no_provider = "no_provider"  # its provider is not enabled here: still due


def refund_key(payment: Payment) -> str:
    """The provider's idempotency key of paying this capture back (the same at every try)."""
    return f"auto-refund-{payment.provider}-{payment.reference}"


def _free(now: datetime):
    return or_(PAYMENTS.c.refund_claimed_until.is_(None), PAYMENTS.c.refund_claimed_until < now)


def due_ids(session: Session, *, now: datetime | None = None) -> list[int]:
    """The payments whose refund is due and that no live claim holds, oldest first."""
    return list(session.scalars(
        select(PAYMENTS.c.id).where(PAYMENTS.c.status == PaymentStatus.refund_due.value,
                                    _free(now or now_utc())).order_by(PAYMENTS.c.id)))


def settle(session: Session, payment_id: int, providers: Mapping, *,
           commit: Callable[[], None], now: datetime | None = None) -> Settled:
    """Pay back the capture `payment_id` through its provider (`providers`: by name, as
    `payments.providers.providers` gives them) unless that happened before or another process
    is at it; `commit` is called after the claim and after the outcome (see the module)."""
    start = now or now_utc()
    payment = session.get(Payment, payment_id, populate_existing=True)
    if payment.status == PaymentStatus.refunded:
        return Settled.refunded
    if payment.status != PaymentStatus.refund_due:
        raise ValueError(f"payment {payment_id} is {payment.status}, not a refund due")
    provider = providers.get(payment.provider)
    if provider is None:
        return Settled.no_provider
    claimed = session.connection().execute(
        update(PAYMENTS).where(PAYMENTS.c.id == payment_id,
                               PAYMENTS.c.status == PaymentStatus.refund_due.value, _free(start))
        .values(refund_claimed_until=start + CLAIM_FOR,
                refund_attempts=PAYMENTS.c.refund_attempts + 1)).rowcount == 1
    reference, amount, key = payment.reference, payment.amount_fen, refund_key(payment)
    commit()  # nothing of the session is touched again until the provider has answered
    if not claimed:
        status = session.scalar(select(PAYMENTS.c.status).where(PAYMENTS.c.id == payment_id))
        return Settled.refunded if status == PaymentStatus.refunded else Settled.busy
    try:
        refund_id = provider.refund(reference, amount, idempotency_key=key)
    except Exception as exc:  # noqa: BLE001 - unreachable, an outage, a refusal: still due
        log.warning("paying back payment %s (%s %s) failed: %r", payment_id, provider.name,
                    reference, exc)
        session.connection().execute(
            update(PAYMENTS).where(PAYMENTS.c.id == payment_id,
                                   PAYMENTS.c.status == PaymentStatus.refund_due.value)
            .values(refund_error=f"{type(exc).__name__}: {exc}"[:200],
                    refund_claimed_until=None))
        commit()
        return Settled.failed
    _refunded(session, payment_id, str(refund_id), now or now_utc())
    commit()
    return Settled.refunded


def _refunded(session: Session, payment_id: int, refund_id: str, at: datetime) -> bool:
    """Write the refund, unless a process whose claim had lapsed onto this one's wrote it
    first (the same refund: the same idempotency key). Whether it was written here."""
    written = session.connection().execute(
        update(PAYMENTS).where(PAYMENTS.c.id == payment_id,
                               PAYMENTS.c.status == PaymentStatus.refund_due.value)
        .values(status=PaymentStatus.refunded.value, refund_reference=refund_id[:64],
                refunded_at=at, refund_claimed_until=None, refund_error="")).rowcount == 1
    if not written:
        return False
    payment = session.get(Payment, payment_id, populate_existing=True)
    order = session.get(Order, payment.order_id)
    amount = shown(payment.amount_fen, payment.currency)
    why = Msg(TURNED_AWAY_LABELS[TurnedAway(payment.reason)])
    order.events.append(OrderEvent(
        kind=OrderEventKind.payment_refunded, from_status=order.status, to_status=order.status,
        created_at=at, note=Msg("%(why)s，%(a)s 已原路退回", why=why, a=amount)[:200]))
    notices.to_buyer(session, order, Msg("订单 %(n)s 收到的付款 %(a)s 已原路退回",
                                         n=order.number, a=amount))
    session.flush()
    return True
