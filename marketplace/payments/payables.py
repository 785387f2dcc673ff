"""What money can be paid for. `OrderPayable`: a cart order (and any order made the same way:
a unit's purchase, a group purchase's consolidated order, an offline sale)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.core.errors import IllegalTransition
from marketplace.core.i18n import Msg
from marketplace.core.money import CURRENCY, fen_to_yuan_text, format_fen
from marketplace.ledger import posting
from marketplace.orders import notices
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.capture import Capture
from marketplace.payments.models import TURNED_AWAY_LABELS, TurnedAway
from marketplace.payments.sql import (
    INSERT_PAID_EVENT,
    INSERT_PAYMENT,
    MARK_PAID,
    params,
)


def shown(amount_fen: int, currency: str) -> str:
    """An amount as people read it: ¥12.50, or USD 12.50 for money in another currency."""
    if currency == CURRENCY:
        return format_fen(amount_fen)
    return f"{currency} {fen_to_yuan_text(amount_fen)}"


def ensure_payable(order: Order) -> None:
    if order.status != OrderStatus.pending_payment:
        raise IllegalTransition(Msg("订单%(status)s，不能付款", status=Msg(order.status_label)))


class OrderPayable:
    """A cart order: paid once, for its total; a payment for an order whose window passed
    takes the units again if there are enough; the paid lines post the households' income to
    the ledger in the same transaction. The money goes back (refund due) when it is not the
    total, or the order was paid by another payment, cancelled, or late with its units gone."""

    def __init__(self, order: Order):
        self.order = order

    def payment_columns(self) -> dict:
        return {"order_id": self.order.id}

    def _late(self, at: datetime) -> bool:
        order = self.order
        return bool(order.stock_held and order.reserved_until and order.reserved_until < at)

    def awaits(self, at: datetime) -> bool:
        return self.order.status == OrderStatus.pending_payment and not self._late(at)

    def amount_due(self) -> tuple[int, str]:
        return self.order.total_fen, self.order.currency

    def make_ready(self, session: Session, capture: Capture) -> TurnedAway | None:
        order, now = self.order, capture.at
        if order.status == OrderStatus.pending_payment and self._late(now):
            # only its own: a payment holds no other order's row (orders.holds._release)
            orders.expire(session, now=now, order_ids=[order.id])
            session.refresh(order)
        if order.status == OrderStatus.cancelled and order.paid_fen == 0 \
                and order.cancel_reason == "expired":
            return None if orders.reserve_again(session, order, now) else TurnedAway.sold_out
        return self._refusal()

    def _refusal(self) -> TurnedAway | None:
        """Why the order as it is cannot take a payment (None: it waits for one)."""
        status = self.order.status
        if status == OrderStatus.pending_payment:
            return None
        return TurnedAway.cancelled if status == OrderStatus.cancelled else TurnedAway.already_paid

    def take(self, session: Session, row: dict) -> tuple[int | None, bool]:
        """The payment, the order marked paid and its 'paid' event, its units sold (they
        leave the products' held units), then the buyer and the seller's staff told."""
        order, conn = self.order, session.connection()
        values, core = params(row, f"{row['provider']} {row['reference']}")
        payment_id = conn.execute(INSERT_PAYMENT, values).scalar()
        marked = payment_id is not None and conn.execute(MARK_PAID, core).rowcount == 1
        if marked:
            conn.execute(INSERT_PAID_EVENT, core)
            orders.sell_held(session, order)  # its units leave the held count: sold
        if not marked:
            return payment_id, False
        notices.to_buyer_and_seller(
            session, order, Msg("订单 %(n)s 已付款，等待商家发货", n=order.number),
            Msg("新订单 %(n)s 已付款，请尽快发货", n=order.number), status=OrderStatus.paid)
        # the loaded order is told what the statements wrote
        for name, value in {"status": OrderStatus.paid, "paid_fen": row["amount_fen"],
                            "paid_at": row["created_at"], "updated_at": row["created_at"],
                            "reserved_until": None, "stock_held": False}.items():
            set_committed_value(order, name, value)
        return payment_id, True

    def changed(self, session: Session) -> TurnedAway | None:
        session.refresh(self.order)
        order = self.order
        if order.status == OrderStatus.cancelled and order.cancel_reason == "expired" \
                and order.paid_fen == 0:
            return None  # expired meanwhile: a new delivery may take its units again
        return self._refusal()

    def after_paid(self, session: Session, capture: Capture) -> None:
        posting.post_sale(session, self.order, capture.at)

    def turned_away(self, session: Session, capture: Capture, why: TurnedAway) -> None:
        order = self.order
        message = Msg("订单 %(n)s 收到的一笔付款 %(a)s 不能入账（%(why)s），将原路退回",
                      n=order.number, a=shown(capture.amount_fen, capture.currency),
                      why=Msg(TURNED_AWAY_LABELS[why]))
        notices.to_buyer_and_seller(session, order, message, message)
