"""Recording offline sales (线下销售): the order (`orders.offline`), its payment and the
households' income, in the caller's transaction, exactly as for a paid online order.

The road: `orders.offline` checks the sale and writes its order, made paid (no provider round
trip: the seller took cash or a transfer at the stall), its units taken from stock; the money
is recorded here as the order's one payment through `capture.record_settled` (provider
`offline_cash` or `offline_transfer`, reference `offline-<seller>-<receipt no>`, unique as any
provider reference), which posts the lines to the ledger (`ledger.posting.post_sales`) in the
same transaction; then the 'received' event. These functions live in `payments` because
`orders` sits below `payments` and `ledger` and may not call them.

The receipt number is unique per seller: the same receipt again with every field identical
answers the order recorded the first time (nothing written: a retried submission or a file
imported twice); with any field different it is a 409 conflict. Corrections are refunds
(`payments.refunds`, the seller's usual refund), never edits.

`import_offline_sales` records the sales of a file (`orders.offline_import` reads it) all or
nothing: every bad line is reported with its line number and nothing is written.

Services never commit: the caller does (and rolls back on a DomainError).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.core.errors import Conflict
from marketplace.core.time import now_utc
from marketplace.orders import offline, offline_import
from marketplace.orders.models import Order
from marketplace.payments.capture import Capture, record_settled
from marketplace.sellers.models import Seller


@dataclass(frozen=True)
class Recorded:
    order: Order
    created: bool  # False: the same sale was recorded before under its receipt number


class Sales(list):
    """The orders of an import (a list), and how many of them had been recorded before."""

    repeated: int = 0


def record_offline_sale(session: Session, actor: User, seller: Seller,
                        data: offline.OfflineSaleInput, *, now: datetime | None = None) -> Order:
    """Record one offline sale (see the module); its order."""
    return record(session, actor, seller, data, now=now).order


def record(session: Session, actor: User, seller: Seller, data: offline.OfflineSaleInput, *,
           now: datetime | None = None) -> Recorded:
    """`record_offline_sale`, saying whether the order is new."""
    offline.check_may_record(actor, seller)
    offline.check_event(data.event_id)
    now = now or now_utc()
    sale = offline.clean_sale(session, seller, data, offline.today_of(now))
    return _record_clean(session, actor, seller, sale, now)


def _record_clean(session: Session, actor: User, seller: Seller, sale: offline.CleanSale,
                  now: datetime) -> Recorded:
    before = offline.find(session, seller.id, sale.receipt_no)
    if before is not None:
        return Recorded(offline.repeated(before, sale), False)
    order = offline.write_sale(session, actor, seller, sale, now)
    if order is None:  # recorded by a concurrent request just now
        before = offline.find(session, seller.id, sale.receipt_no)
        if before is None:
            raise Conflict("该收据号正在录入，请稍后刷新列表", field="receipt_no",
                           code="receipt_no_taken")
        return Recorded(offline.repeated(before, sale), False)
    record_settled(session, [order], [Capture(
        sale.provider, f"offline-{seller.id}-{sale.receipt_no}", order.total_fen,
        order.currency, now)])
    offline.handed_over(session, order, actor, now)
    return Recorded(order, True)


def import_offline_sales(session: Session, actor: User, seller: Seller,
                         rows: Sequence[offline_import.ImportRow], *,
                         now: datetime | None = None) -> Sales:
    """Record the sales of a file's rows (rows of one receipt number are one sale), all or
    nothing: `offline_import.ImportFailed` names every bad line (its number and why) and nothing
    is written. Receipts recorded before with identical fields are answered with their orders
    (counted in `repeated`), so a file imported twice records its sales once."""
    offline.check_may_record(actor, seller)
    now = now or now_utc()
    planned = offline_import.plan(session, seller, rows, offline.today_of(now))
    out = Sales()
    for sale, before in planned:
        if before is not None:
            out.append(before)
            out.repeated += 1
        else:
            out.append(_record_clean(session, actor, seller, sale, now).order)
    return out
