"""Notifications inside the site: short messages about one's orders (no mail server needed)."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, RoleGrant
from marketplace.core.time import now_utc
from marketplace.orders.models import Notification, Order


def notify(session: Session, user_ids: Iterable[int], text: str, url: str = "") -> None:
    for uid in dict.fromkeys(user_ids):
        session.add(Notification(user_id=uid, text=str(text)[:200], url=url[:200]))


def to_buyer(session: Session, order: Order, text: str) -> None:
    notify(session, [order.buyer_id], text, f"/orders/{order.id}")


def to_seller(session: Session, order: Order, text: str) -> None:
    with session.no_autoflush:  # the caller's changes go out in one flush, not two
        staff = session.scalars(select(RoleGrant.user_id).where(
            RoleGrant.role == Role.seller_staff, RoleGrant.seller_id == order.seller_id)).all()
    notify(session, staff, text, f"/seller/orders?seller={order.seller_id}&status="
                                 f"{order.status.value}")


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
