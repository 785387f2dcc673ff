"""Sending and reading notifications: to users by id, or to every staff member of a seller in
one INSERT ... SELECT. Callers (orders, payments, the ledger) say what (a `Msg`) and where (an
endpoint name and its arguments, see `messages`); this package knows nothing of orders or the
ledger."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import BigInteger, String, Text, bindparam, func, literal, select, union_all, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import RoleGrant
from marketplace.core.db import insert_many
from marketplace.core.models import AwareDateTime
from marketplace.core.roles import Role
from marketplace.core.time import now_utc
from marketplace.notifications.messages import Notice
from marketplace.notifications.models import Notification

NOTIFICATIONS = Notification.__table__
GRANTS = RoleGrant.__table__
CONTENT = ["text", "message_key", "message_values", "endpoint", "endpoint_args"]  # Notice.columns
COLUMNS = ["user_id", *CONTENT, "url", "created_at"]
_NOW = bindparam("now", type_=AwareDateTime())
_NO_URL = literal("", String())  # `url` is only read on rows written before the endpoints


def _content(prefix: str) -> list:
    return [bindparam(prefix + name, type_=Text() if name in ("message_values", "endpoint_args")
                      else String()) for name in CONTENT]


_STAFF = (select(GRANTS.c.user_id, *_content("staff_"), _NO_URL, _NOW)
          .where(GRANTS.c.role == bindparam("staff_role"),
                 GRANTS.c.seller_id == bindparam("seller_id"))
          .distinct())
TO_STAFF = NOTIFICATIONS.insert().from_select(COLUMNS, _STAFF)
TO_USER_AND_STAFF = NOTIFICATIONS.insert().from_select(COLUMNS, union_all(
    select(bindparam("user_id", type_=BigInteger()), *_content("user_"), _NO_URL, _NOW), _STAFF))


def notify(session: Session, user_ids: Iterable[int], message: str, endpoint: str = "",
           **args) -> None:
    """Each user once: `message` (a Msg, kept with its key and values) linking to
    url_for(endpoint, **args) (`_anchor` for a part of the page; no endpoint, no link)."""
    content = Notice(message, endpoint, args).columns()
    now = now_utc()
    rows = [{"user_id": uid, **content, "url": "", "created_at": now}
            for uid in dict.fromkeys(user_ids)]
    insert_many(session.connection(), NOTIFICATIONS, rows)  # a group purchase tells thousands


def staff_params(seller_id: int, staff: Notice, *, user_id: int | None = None,
                 user: Notice | None = None) -> dict:
    """The parameters of TO_STAFF (and, with `user_id` and `user`, of TO_USER_AND_STAFF)."""
    params = {"seller_id": seller_id, "staff_role": Role.seller_staff.value, "now": now_utc(),
              **staff.columns("staff_")}
    if user_id is not None and user is not None:
        params.update(user_id=user_id, **user.columns("user_"))
    return params


def to_staff(session: Session, seller_id: int, message: str, endpoint: str = "",
             **args) -> None:
    """Every staff member of a seller, in one INSERT ... SELECT (arguments as in `notify`)."""
    session.connection().execute(TO_STAFF, staff_params(seller_id, Notice(message, endpoint,
                                                                          args)))


def to_user_and_staff(session: Session, user_id: int, user: Notice, seller_id: int,
                      staff: Notice) -> None:
    """One user and a seller's staff, each told their own notice, in one statement."""
    session.connection().execute(TO_USER_AND_STAFF,
                                 staff_params(seller_id, staff, user_id=user_id, user=user))


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
