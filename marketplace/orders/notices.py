"""What an order's buyer and its seller's staff are told (through `notifications`), with the
links each of them follows."""
from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.notifications import services as notifications
from marketplace.orders.models import Order


def to_buyer(session: Session, order: Order, text: str) -> None:
    notifications.notify(session, [order.buyer_id], text, _buyer_url(order))


def to_seller(session: Session, order: Order, text: str) -> None:
    """Every staff member of the order's seller."""
    notifications.to_staff(session, order.seller_id, text, _seller_url(order))


def to_buyer_and_seller(session: Session, order: Order, buyer_text: str, seller_text: str, *,
                        status: str | None = None) -> None:
    """The buyer and the seller's staff, in one statement (the seller's link opens the list of
    `status`, by default the order's)."""
    notifications.to_user_and_staff(session, _params(order, buyer_text, seller_text, status))


def _params(order: Order, buyer_text: str, seller_text: str, status: str | None = None) -> dict:
    """What the buyer and the staff are told (notifications.TO_USER_AND_STAFF's parameters); the
    seller's link opens the list of `status`, by default the order's."""
    return notifications.staff_params(order.seller_id, seller_text, _seller_url(order, status),
                                      user_id=order.buyer_id, user_text=buyer_text,
                                      user_url=_buyer_url(order))


def _buyer_url(order: Order) -> str:
    return f"/orders/{order.id}"


def _seller_url(order: Order, status: str | None = None) -> str:
    return f"/seller/orders?seller={order.seller_id}&status={status or order.status.value}"
