"""Notifications inside the site: short messages about one's orders (no mail server needed)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BigInteger, String, bindparam, func, select, union_all, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, RoleGrant
from marketplace.core.models import AwareDateTime
from marketplace.core.time import now_utc
from marketplace.orders.models import Notification, Order

NOTIFICATIONS = Notification.__table__
COLUMNS = ["user_id", "text", "url", "created_at"]
_NOW = bindparam("now", type_=AwareDateTime())
_STAFF = (select(RoleGrant.__table__.c.user_id, bindparam("seller_text", type_=String()),
                 bindparam("seller_url", type_=String()), _NOW)
          .where(RoleGrant.__table__.c.role == Role.seller_staff,
                 RoleGrant.__table__.c.seller_id == bindparam("seller_id"))
          .distinct())
TO_STAFF = NOTIFICATIONS.insert().from_select(COLUMNS, _STAFF)
TO_BUYER_AND_STAFF = NOTIFICATIONS.insert().from_select(COLUMNS, union_all(
    select(bindparam("buyer_id", type_=BigInteger()), bindparam("buyer_text", type_=String()),
           bindparam("buyer_url", type_=String()), _NOW), _STAFF))


def notify(session: Session, user_ids: Iterable[int], text: str, url: str = "") -> None:
    now = now_utc()
    rows = [{"user_id": uid, "text": str(text)[:200], "url": url[:200], "created_at": now}
            for uid in dict.fromkeys(user_ids)]
    if rows:
        session.connection().execute(NOTIFICATIONS.insert(), rows)


def to_buyer(session: Session, order: Order, text: str) -> None:
    notify(session, [order.buyer_id], text, _buyer_url(order))


def to_seller(session: Session, order: Order, text: str) -> None:
    """Every staff member of the order's seller, in one INSERT ... SELECT."""
    session.connection().execute(TO_STAFF, _params(order, seller_text=text))


def to_buyer_and_seller(session: Session, order: Order, buyer_text: str,
                        seller_text: str) -> None:
    """The buyer and the seller's staff, in one statement."""
    session.connection().execute(TO_BUYER_AND_STAFF, _params(
        order, buyer_text=buyer_text, seller_text=seller_text))


def _buyer_url(order: Order) -> str:
    return f"/orders/{order.id}"


def _params(order: Order, *, seller_text: str, buyer_text: str = "",
            status: str | None = None) -> dict:
    """The parameters of TO_STAFF and TO_BUYER_AND_STAFF (the seller's link opens the list of
    `status`, by default the order's)."""
    status = status or order.status.value
    return {"buyer_id": order.buyer_id, "buyer_text": str(buyer_text)[:200],
            "buyer_url": _buyer_url(order), "seller_id": order.seller_id,
            "seller_text": str(seller_text)[:200],
            "seller_url": f"/seller/orders?seller={order.seller_id}&status={status}",
            "now": now_utc()}


def paid_params(order: Order, buyer_text: str, seller_text: str) -> dict:
    """What the buyer and the staff are told when the order is paid (TO_BUYER_AND_STAFF)."""
    return _params(order, buyer_text=buyer_text, seller_text=seller_text, status="paid")


def unread(session: Session, user_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def latest(session: Session, user_id: int, limit: int = 50) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user_id)
                                .order_by(Notification.id.desc()).limit(limit)))


def mark_read(session: Session, user_id: int) -> None:
    session.execute(update(Notification).where(Notification.user_id == user_id,
                                               Notification.read_at.is_(None))
                    .values(read_at=now_utc()))
