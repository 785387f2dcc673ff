"""What counts toward a unit: summed from orders, never stored.

A unit's counted amount for a year is what the orders carrying its `unit_id` (channels
unit_member, unit_purchase and group_purchase) were paid, net of refunds, by the China-time
year in which they were paid.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.core.time import CHINA
from marketplace.orders.models import Channel, Order

COUNTED_CHANNELS = (Channel.unit_member, Channel.unit_purchase, Channel.group_purchase)


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of `year`, China time."""
    return (datetime.combine(datetime(year, 1, 1).date(), time(), CHINA),
            datetime.combine(datetime(year + 1, 1, 1).date(), time(), CHINA))


def counted_fen(session: Session, unit_ids: Iterable[int], start: datetime,
                end: datetime) -> dict[int, int]:
    """Unit id -> paid net of refunds of its orders paid in [start, end) (0 for none)."""
    ids = list(unit_ids)
    out = dict.fromkeys(ids, 0)
    if not ids:
        return out
    rows = session.execute(
        select(Order.unit_id, func.coalesce(func.sum(Order.paid_fen - Order.refunded_fen), 0))
        .where(Order.unit_id.in_(ids), Order.channel.in_(COUNTED_CHANNELS),
               Order.paid_at.is_not(None), Order.paid_at >= start, Order.paid_at < end)
        .group_by(Order.unit_id))
    for unit_id, amount in rows:
        out[unit_id] = int(amount)
    return out


def counted_in_year(session: Session, unit_ids: Iterable[int], year: int) -> dict[int, int]:
    """Unit id -> its counted amount for `year`."""
    return counted_fen(session, unit_ids, *year_bounds(year))
