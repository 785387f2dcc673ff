"""What money can be paid for. `OrderPayable`: a cart order (and any order made the same way:
a unit's purchase, a group purchase's consolidated order, an offline sale)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.core.errors import IllegalTransition
from marketplace.core.i18n import Msg
from marketplace.ledger import posting
from marketplace.orders import notices
from marketplace.orders import services as orders
from marketplace.orders.models import Order, OrderEvent, OrderEventKind, OrderStatus
from marketplace.payments.capture import Capture
from marketplace.payments.sql import (
    INSERT_PAID_EVENT,
    INSERT_PAYMENT,
    MARK_PAID,
    params,
)


def ensure_payable(order: Order) -> None:
    if order.status != OrderStatus.pending_payment:
        raise IllegalTransition(Msg("订单%(status)s，不能付款", status=Msg(order.status_label)))


class OrderPayable:
    """A cart order: paid once, for its total; a payment for an order whose window passed
    takes the units again if there are enough, else the money goes back; the paid lines post
    the households' income to the ledger in the same transaction."""

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

    def make_ready(self, session: Session, capture: Capture) -> str | None:
        order, now = self.order, capture.at
        if order.status == OrderStatus.pending_payment and self._late(now):
            orders.expire(session, now=now, product_ids=[ln.product_id for ln in order.lines])
            session.refresh(order)
        if order.status == OrderStatus.cancelled and order.paid_fen == 0:
            if order.cancel_reason != "expired":  # the buyer cancelled meanwhile
                return "订单已取消，款项原路退回"
            if not orders.reserve_again(session, order, now):
                return "付款到账时库存已售出，款项原路退回"
            return None
        ensure_payable(order)
        return None

    def take(self, session: Session, row: dict) -> tuple[int | None, bool]:
        """The payment, the order marked paid and its 'paid' event, then the buyer and the
        seller's staff told."""
        order, conn = self.order, session.connection()
        values, core = params(row, f"{row['provider']} {row['reference']}")
        payment_id = conn.execute(INSERT_PAYMENT, values).scalar()
        marked = payment_id is not None and conn.execute(MARK_PAID, core).rowcount == 1
        if marked:
            conn.execute(INSERT_PAID_EVENT, core)
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

    def after_paid(self, session: Session, capture: Capture) -> None:
        posting.post_sale(session, self.order, capture.at)

    def turned_away(self, session: Session, capture: Capture, why: str) -> None:
        order = self.order
        order.events.append(OrderEvent(kind=OrderEventKind.payment_refunded,
                                       from_status=order.status, to_status=order.status,
                                       created_at=capture.at, note=why))
        notices.to_buyer(session, order, Msg("订单 %(n)s：%(note)s", n=order.number,
                                             note=Msg(why)))
