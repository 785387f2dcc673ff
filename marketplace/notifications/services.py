"""Sending and reading notifications: to users by id, or to every staff member of a seller in
one INSERT ... SELECT. Callers (orders, payments, the ledger) say what and where; this package
knows nothing of orders or the ledger."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BigInteger, String, bindparam, func, select, union_all, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, RoleGrant
from marketplace.core.models import AwareDateTime
from marketplace.core.time import now_utc
from marketplace.notifications.models import Notification

NOTIFICATIONS = Notification.__table__
GRANTS = RoleGrant.__table__
COLUMNS = ["user_id", "text", "url", "created_at"]
_NOW = bindparam("now", type_=AwareDateTime())
_STAFF = (select(GRANTS.c.user_id, bindparam("seller_text", type_=String()),
                 bindparam("seller_url", type_=String()), _NOW)
          .where(GRANTS.c.role == bindparam("staff_role"),
                 GRANTS.c.seller_id == bindparam("seller_id"))
          .distinct())
TO_STAFF = NOTIFICATIONS.insert().from_select(COLUMNS, _STAFF)
TO_USER_AND_STAFF = NOTIFICATIONS.insert().from_select(COLUMNS, union_all(
    select(bindparam("buyer_id", type_=BigInteger()), bindparam("buyer_text", type_=String()),
           bindparam("buyer_url", type_=String()), _NOW), _STAFF))


def notify(session: Session, user_ids: Iterable[int], text: str, url: str = "") -> None:
    now = now_utc()
    rows = [{"user_id": uid, "text": str(text)[:200], "url": url[:200], "created_at": now}
            for uid in dict.fromkeys(user_ids)]
    if rows:
        session.connection().execute(NOTIFICATIONS.insert(), rows)


def staff_params(seller_id: int, text: str, url: str, *, user_id: int | None = None,
                 user_text: str = "", user_url: str = "") -> dict:
    """The parameters of TO_STAFF (and, with `user_id`, of TO_USER_AND_STAFF)."""
    return {"buyer_id": user_id, "buyer_text": str(user_text)[:200], "buyer_url": user_url[:200],
            "seller_id": seller_id, "seller_text": str(text)[:200], "seller_url": url[:200],
            "staff_role": Role.seller_staff.value, "now": now_utc()}


def to_staff(session: Session, seller_id: int, text: str, url: str) -> None:
    """Every staff member of a seller, in one INSERT ... SELECT."""
    session.connection().execute(TO_STAFF, staff_params(seller_id, text, url))


def to_user_and_staff(session: Session, params: dict) -> None:
    """One user and a seller's staff, in one statement (`params`: staff_params with a user)."""
    session.connection().execute(TO_USER_AND_STAFF, params)


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
