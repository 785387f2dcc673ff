"""Unpaid orders' stock holds ending: expiry, cancellation, and the sale at payment; and the
status transition every order change writes (with its event).

An order's hold ends exactly once: its row is claimed by a conditional UPDATE before any units
move (`_release`), so of two requests expiring, cancelling or paying it at once only one gives
its units back or sells them. Units move held to free on expiry and cancellation, out of held on
payment (`sell_held`); on hand = stock + held throughout (see orders.services). Checkout and a
late payment's `reserve_again` take units (orders.services); this module only lets them go.

Services take an explicit session and never commit.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog.models import Product
from marketplace.core.db import in_session
from marketplace.core.errors import IllegalTransition
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.orders import notices
from marketplace.orders.models import Order, OrderEvent, OrderEventKind, OrderLine, OrderStatus
from marketplace.orders.sql import SELL_HELD
from marketplace.search import outbox
from marketplace.search.models import OutboxKind


def _expire_stock(session: Session, product_ids: Iterable[int]) -> None:
    """Loaded products read their new stock and held units when next used."""
    for pid in product_ids:
        loaded = in_session(session, Product, pid)
        if loaded is not None:
            session.expire(loaded, ["stock", "held"])


def _release(session: Session, order: Order, *, wait: bool = True) -> bool:
    """Give an unpaid order's units back (held to free), products in id order. The order's
    hold is ended first by a conditional UPDATE of its row, so that of two requests expiring,
    cancelling or paying it at once only one gives its units back (or sells them): False if
    it gave nothing back (another request changed the order meanwhile, or with wait=False
    holds its row or one of its products' rows).

    wait=False (expiry) never waits for a row another transaction holds (PostgreSQL SKIP
    LOCKED; SQLite has one writer): a checkout that finds a product short may hold that
    product's row already (a conditional UPDATE that waited for a row keeps it locked), and a
    payment that expired other orders holds their products' rows when it marks its own
    order paid; expiry waiting for either could close a circle. What it skips is expired by
    the next checkout of the product or `flask orders expire`."""
    if not order.stock_held:
        return True
    holding = [Order.id == order.id, Order.status == OrderStatus.pending_payment,
               Order.stock_held.is_(True)]
    if not wait:
        holding.append(Order.id.in_(select(Order.id).where(*holding)
                                    .with_for_update(skip_locked=True, key_share=True)))
    ended = session.execute(
        update(Order).where(*holding).values(stock_held=False)
        .execution_options(synchronize_session=False)).rowcount
    if ended != 1:
        return False
    product_ids = sorted({ln.product_id for ln in order.lines})
    if not wait and len(session.scalars(
            select(Product.id).where(Product.id.in_(product_ids)).order_by(Product.id)
            .with_for_update(skip_locked=True, key_share=True)).all()) != len(product_ids):
        session.execute(update(Order).where(Order.id == order.id).values(stock_held=True)
                        .execution_options(synchronize_session=False))  # still ours: undone
        return False
    for line in sorted(order.lines, key=lambda ln: ln.product_id):
        session.execute(update(Product).where(Product.id == line.product_id)
                        .values(stock=Product.stock + line.quantity,
                                held=Product.held - line.quantity)
                        .execution_options(synchronize_session=False))
    order.stock_held = False
    outbox.record(session, OutboxKind.product, product_ids)
    _expire_stock(session, product_ids)
    return True


def sell_held(session: Session, order: Order) -> None:
    """The units an order held are sold: they leave the held count (on hand goes down by them,
    the free units stay), products in id order. Payments call it in the statement sequence that
    marks the order paid; an order waiting for payment always holds its units (checkout and
    `reserve_again` take them, `expire` and `cancel` end both)."""
    lines = sorted(order.lines, key=lambda ln: ln.product_id)
    if lines:
        session.connection().execute(SELL_HELD, [{"pid": ln.product_id, "q": ln.quantity}
                                                 for ln in lines])
    _expire_stock(session, [ln.product_id for ln in lines])


def transition(order: Order, to: OrderStatus, kind: str, actor: User | None, now: datetime,
                note: str = "") -> None:
    order.events.append(OrderEvent(kind=kind, from_status=order.status, to_status=to,
                                   actor_id=actor.id if actor else None, note=note,
                                   created_at=now))
    order.status = to
    order.updated_at = now


def expire(session: Session, *, now: datetime | None = None,
           product_ids: Iterable[int] | None = None,
           order_ids: Iterable[int] | None = None) -> int:
    """Cancel the unpaid orders whose payment window has passed (those holding any of
    `product_ids`, those of `order_ids`, or all) and give their units back. Returns how many.
    It never waits for a row another transaction holds: what it skips is expired next time
    (see `_release`)."""
    now = now or now_utc()
    stmt = (select(Order.id).where(Order.status == OrderStatus.pending_payment,
                                   Order.stock_held.is_(True), Order.reserved_until < now)
            .order_by(Order.id))
    if product_ids is not None:
        ids = list(product_ids)
        if not ids:
            return 0
        stmt = stmt.where(Order.id.in_(select(OrderLine.order_id)
                                       .where(OrderLine.product_id.in_(ids))))
    if order_ids is not None:
        stmt = stmt.where(Order.id.in_(list(order_ids)))
    due = session.scalars(stmt).all()  # almost always none: only then are orders loaded
    if not due:
        return 0
    count = 0
    for order in session.scalars(select(Order).where(Order.id.in_(due)).order_by(Order.id)):
        if not _release(session, order, wait=False):  # another request has it
            session.expire(order)
            continue
        order.cancel_reason = "expired"
        transition(order, OrderStatus.cancelled, OrderEventKind.expired, None, now,
                   "付款时间已过，库存已释放")
        notices.to_buyer(session, order, Msg("订单 %(n)s 付款超时，已自动取消", n=order.number))
        count += 1
    if count:
        session.flush()
    return count


def cancel(session: Session, actor: User, order: Order, *, now: datetime | None = None) -> Order:
    """The buyer (or an admin) cancels an unpaid order; its units go back."""
    now = now or now_utc()
    if order.status != OrderStatus.pending_payment:
        raise IllegalTransition(Msg("订单%(status)s，不能取消", status=Msg(order.status_label)))
    if not _release(session, order):
        session.refresh(order)
        raise IllegalTransition(Msg("订单%(status)s，不能取消", status=Msg(order.status_label)))
    order.cancel_reason = "buyer"
    transition(order, OrderStatus.cancelled, OrderEventKind.cancelled, actor, now)
    session.flush()
    return order
