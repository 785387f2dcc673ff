"""What an order's buyer and its seller's staff are told (through `notifications`), with the
pages their links open: the buyer's order page, the seller's order list of a status."""
from __future__ import annotations

from sqlalchemy.orm import Session

from marketplace.notifications import services as notifications
from marketplace.notifications.messages import Notice
from marketplace.orders.models import Order

BUYER_PAGE = "orders.order_page"  # one order, for its buyer
SELLER_LIST = "seller_orders.index"  # a seller's orders of one status


def to_buyer(session: Session, order: Order, text: str) -> None:
    notifications.notify(session, [order.buyer_id], text, BUYER_PAGE, order_id=order.id)


def to_seller(session: Session, order: Order, text: str) -> None:
    """Every staff member of the order's seller."""
    notifications.to_staff(session, order.seller_id, text, SELLER_LIST, **_seller_args(order))


def to_buyer_and_seller(session: Session, order: Order, buyer_text: str, seller_text: str, *,
                        status: str | None = None) -> None:
    """The buyer and the seller's staff, in one statement (the seller's link opens the list of
    `status`, by default the order's)."""
    notifications.to_user_and_staff(
        session, order.buyer_id, Notice(buyer_text, BUYER_PAGE, {"order_id": order.id}),
        order.seller_id, Notice(seller_text, SELLER_LIST, _seller_args(order, status)))


def _seller_args(order: Order, status: str | None = None) -> dict:
    return {"seller": order.seller_id, "status": str(status or order.status.value)}
