"""After payment: shipping, receipt and closing (refunds are `payments.refunds`). Every change
is an order event; a change not allowed from the current status is refused with
IllegalTransition. Services take an explicit session and actor and never commit."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.core import policy
from marketplace.core.errors import IllegalTransition, NotFound, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.orders import notices
from marketplace.orders.holds import transition
from marketplace.orders.models import Order, OrderEventKind, OrderStatus

# ---- fulfilment ---------------------------------------------------------------------------------

RECEIVE_AFTER = timedelta(days=10)  # a shipped order counts as received this long after shipping
COMPLETE_AFTER = timedelta(days=7)  # a received order closes this long after receipt


def check_seller(actor: User, order: Order) -> None:
    """The order's seller's staff and admins act on it; anyone else: 404."""
    if not (policy.is_admin(actor) or policy.staff_of(actor, order.seller_id)):
        raise NotFound("未找到该订单")


def ship(session: Session, actor: User, order: Order, *, carrier: str, tracking_no: str,
         now: datetime | None = None) -> Order:
    """The seller ships a paid order, with the carrier and tracking number."""
    check_seller(actor, order)
    carrier, tracking_no = (carrier or "").strip(), (tracking_no or "").strip()
    errors = {}
    if not 1 <= len(carrier) <= 32:
        errors["carrier"] = ["请填写快递公司"]
    if not (4 <= len(tracking_no) <= 40 and tracking_no.replace("-", "").isalnum()):
        errors["tracking_no"] = ["请填写正确的快递单号（字母和数字，4–40 位）"]
    if errors:
        raise ValidationFailed("发货信息不完整", errors=errors)
    if order.status != OrderStatus.paid:
        raise IllegalTransition(Msg("订单%(status)s，不能发货", status=Msg(order.status_label)))
    now = now or now_utc()
    order.carrier, order.tracking_no, order.shipped_at = carrier, tracking_no, now
    transition(order, OrderStatus.shipped, OrderEventKind.shipped, actor, now,
               f"{carrier} {tracking_no}")
    notices.to_buyer(session, order, Msg("订单 %(n)s 已发货：%(c)s %(t)s", n=order.number,
                                         c=carrier, t=tracking_no))
    session.flush()
    return order


def confirm_receipt(session: Session, buyer: User, order: Order, *,
                    now: datetime | None = None) -> Order:
    if order.buyer_id != buyer.id:
        raise NotFound("未找到该订单")
    if order.status != OrderStatus.shipped:
        raise IllegalTransition(Msg("订单%(status)s，不能确认收货", status=Msg(order.status_label)))
    now = now or now_utc()
    order.received_at = now
    transition(order, OrderStatus.received, OrderEventKind.received, buyer, now)
    session.flush()
    return order


def advance(session: Session, *, now: datetime | None = None) -> tuple[int, int]:
    """Shipped orders become received 10 days after shipping; received orders complete 7 days
    after receipt (`flask orders advance`). Returns (received, completed)."""
    now = now or now_utc()
    received = completed = 0
    for order in session.scalars(select(Order).where(
            Order.status == OrderStatus.shipped, Order.shipped_at < now - RECEIVE_AFTER)):
        order.received_at = now
        transition(order, OrderStatus.received, OrderEventKind.received, None, now,
                   "发货满 10 天自动确认收货")
        received += 1
    for order in session.scalars(select(Order).where(
            Order.status == OrderStatus.received, Order.received_at < now - COMPLETE_AFTER)):
        transition(order, OrderStatus.completed, OrderEventKind.completed, None, now)
        completed += 1
    session.flush()
    return received, completed
