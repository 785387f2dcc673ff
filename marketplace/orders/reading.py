"""Reading an order as its buyer, its seller's staff or an admin: every order request starts
here, and anyone else is answered 404 (NotFound), never told the order exists."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, joinedload

from marketplace.accounts.models import User
from marketplace.core import policy
from marketplace.core.db import attach, in_session, loaded, row_object, split_row
from marketplace.core.errors import NotFound
from marketplace.orders.models import Order, OrderLine
from marketplace.orders.sql import LINES, ORDER_WITH_LINES, ORDERS, SELLERS
from marketplace.sellers.models import Seller


def order_for(session: Session, user: User, order_id: int) -> Order:
    """An order its buyer, its seller's staff or an admin may see; 404 for anyone else."""
    order = in_session(session, Order, order_id) or _load_order(session, order_id)
    return _seen_by(order, lambda o: o.buyer_id == user.id or _sells(user, o))


def buyer_order(session: Session, user: User, order_id: int) -> Order:
    """One of the user's own orders (the buyer's pages); 404 for anyone else's."""
    return _seen_by(session.get(Order, order_id), lambda o: o.buyer_id == user.id)


def seller_order(session: Session, user: User, order_id: int) -> Order:
    """An order of a seller the user staffs, or any for an admin (the seller's pages)."""
    return _seen_by(session.get(Order, order_id), lambda o: _sells(user, o))


def _sells(user: User, order: Order) -> bool:
    return policy.is_admin(user) or policy.staff_of(user, order.seller_id)


def _seen_by(order: Order | None, may_see: Callable[[Order], bool]) -> Order:
    if order is None or not may_see(order):
        raise NotFound("未找到该订单")
    return order


def _load_order(session: Session, order_id: int) -> Order | None:
    """The order with its seller and lines in one statement (read with Core: every order
    request starts here)."""
    rows = [split_row(row, ORDERS, SELLERS, LINES)
            for row in session.connection().execute(ORDER_WITH_LINES, {"order_id": order_id})]
    if not rows:
        return None
    values = [line for _, _, line in rows if line["id"] is not None]
    if any(in_session(session, OrderLine, v["id"]) for v in values):  # rare: load it the ORM way
        return session.get(Order, order_id, options=[joinedload(Order.lines)])
    order, seller, _ = rows[0]
    return attach(session, loaded(Order, order, lines=[loaded(OrderLine, v) for v in values],
                                  seller=row_object(session, Seller, seller)))
