"""The buyer's and the seller's lists of orders: tabs by status with their counts, a page at a
time (core.pager.Page)."""
from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ColumnElement, exists, func, or_, select, true
from sqlalchemy.orm import Session

from marketplace.core.pager import Page
from marketplace.orders.models import Order, OrderEvent, OrderEventKind, OrderStatus, purchases_of

PER_PAGE = 20


class BuyerTab(StrEnum):
    all = "all"  # 全部
    unpaid = "unpaid"  # 待付款: waiting for the buyer's payment
    to_ship = "to_ship"  # 待发货: paid, the seller ships next
    to_receive = "to_receive"  # 待收货: on its way
    done = "done"  # 已完成: received or closed
    after_sale = "after_sale"  # 退款/售后: a refund asked for or money paid back


BUYER_TAB_LABELS = {
    BuyerTab.all: "全部",
    BuyerTab.unpaid: "待付款",
    BuyerTab.to_ship: "待发货",
    BuyerTab.to_receive: "待收货",
    BuyerTab.done: "已完成",
    BuyerTab.after_sale: "退款/售后",
}

_TAB_STATUSES = {
    BuyerTab.unpaid: (OrderStatus.pending_payment,),
    BuyerTab.to_ship: (OrderStatus.paid,),
    BuyerTab.to_receive: (OrderStatus.shipped,),
    BuyerTab.done: (OrderStatus.received, OrderStatus.completed),
}
# an order is in 退款/售后 once a refund was asked for or money went back to the buyer
_AFTER_SALE_EVENTS = (OrderEventKind.refund_requested, OrderEventKind.refunded,
                      OrderEventKind.payment_refunded)


def _after_sale() -> ColumnElement[bool]:
    return or_(Order.refunded_fen > 0,
               exists().where(OrderEvent.order_id == Order.id,
                              OrderEvent.kind.in_([k.value for k in _AFTER_SALE_EVENTS])))


def _in_tab(tab: BuyerTab) -> ColumnElement[bool]:
    if tab is BuyerTab.after_sale:
        return _after_sale()
    if tab is BuyerTab.all:
        return true()
    return Order.status.in_(_TAB_STATUSES[tab])


def buyer_tab(raw: str | None) -> BuyerTab:
    """?tab= as a tab; anything else is 全部."""
    try:
        return BuyerTab(raw or BuyerTab.all)
    except ValueError:
        return BuyerTab.all


def buyer_orders(session: Session, buyer_id: int, tab: BuyerTab, page: int = 1,
                 per_page: int = PER_PAGE) -> Page[Order]:
    """One page of the buyer's orders in a tab, newest first."""
    where = (purchases_of(buyer_id), _in_tab(tab))
    total = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    items = session.scalars(select(Order).where(*where).order_by(Order.id.desc())
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), total, page, per_page)


def buyer_counts(session: Session, buyer_id: int) -> dict[BuyerTab, int]:
    """How many of the buyer's orders each tab holds (two statements)."""
    by_status = status_counts(session, purchases_of(buyer_id))
    counts = {tab: sum(by_status.get(s, 0) for s in statuses)
              for tab, statuses in _TAB_STATUSES.items()}
    counts[BuyerTab.all] = sum(by_status.values())
    counts[BuyerTab.after_sale] = session.scalar(
        select(func.count()).select_from(Order)
        .where(purchases_of(buyer_id), _after_sale())) or 0
    return counts


def status_counts(session: Session, *where: ColumnElement[bool]) -> dict[OrderStatus, int]:
    rows = session.execute(select(Order.status, func.count()).where(*where)
                           .group_by(Order.status)).tuples().all()
    return {OrderStatus(status): n for status, n in rows}


# ---- the seller's console -------------------------------------------------------------------

# the seller's tabs, what needs doing first; the console opens on the first that holds orders
SELLER_TABS = (OrderStatus.paid, OrderStatus.pending_payment, OrderStatus.shipped,
               OrderStatus.received, OrderStatus.completed, OrderStatus.cancelled)
SELLER_TAB_LABELS = {
    OrderStatus.paid: "待发货",
    OrderStatus.pending_payment: "待付款",
    OrderStatus.shipped: "已发货",
    OrderStatus.received: "已收货",
    OrderStatus.completed: "已完成",
    OrderStatus.cancelled: "已取消",
}


def seller_counts(session: Session, seller_id: int) -> dict[OrderStatus, int]:
    return status_counts(session, Order.seller_id == seller_id)


def seller_tab(raw: str | None, counts: dict[OrderStatus, int]) -> OrderStatus:
    """?status= as a tab; without one (or a wrong one) the first tab with orders, so that an
    empty 待发货 never hides the orders there are; 待发货 when there are none at all."""
    try:
        return OrderStatus(raw)
    except ValueError:
        return next((s for s in SELLER_TABS if counts.get(s)), SELLER_TABS[0])


def seller_orders(session: Session, seller_id: int, status: OrderStatus, page: int = 1,
                  per_page: int = PER_PAGE) -> Page[Order]:
    """One page of a seller's orders in a status: the oldest first among those to ship (first
    paid, first shipped), the newest first elsewhere."""
    where = (Order.seller_id == seller_id, Order.status == status)
    total = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    order = Order.id.asc() if status is OrderStatus.paid else Order.id.desc()
    items = session.scalars(select(Order).where(*where).order_by(order)
                            .offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), total, page, per_page)
