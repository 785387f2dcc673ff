"""What counts toward a unit: summed from orders, never stored.

A unit's counted amount for a year is what the orders carrying its `unit_id` (channels
unit_member, unit_purchase and group_purchase) were paid, net of refunds, by the China-time
year in which they were paid. Also the leaderboards (爱心单位榜): units that opted in by counted
amount or by households reached, and buyers who opted in under a nickname.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.core.time import CHINA
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Channel, Order, OrderLine
from marketplace.regions.models import Region
from marketplace.units.models import Unit, UnitStatus

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


# ---- households reached and the leaderboards (爱心单位榜) --------------------------------------

def households_reached(session: Session, unit_ids: Iterable[int], start: datetime,
                       end: datetime) -> dict[int, int]:
    """Unit id -> how many distinct households hold income (net of reversals, above 0) from
    the unit's orders paid in [start, end)."""
    ids = list(unit_ids)
    out = dict.fromkeys(ids, 0)
    if not ids:
        return out
    per_household = (
        select(Order.unit_id.label("unit_id"), LedgerEntry.household_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .join(LedgerEntry, LedgerEntry.order_line_id == OrderLine.id)
        .where(Order.unit_id.in_(ids), Order.channel.in_(COUNTED_CHANNELS),
               Order.paid_at.is_not(None), Order.paid_at >= start, Order.paid_at < end)
        .group_by(Order.unit_id, LedgerEntry.household_id)
        .having(func.sum(LedgerEntry.amount_fen) > 0)).subquery()
    for unit_id, n in session.execute(select(per_household.c.unit_id, func.count())
                                      .group_by(per_household.c.unit_id)):
        out[unit_id] = int(n)
    return out


@dataclass(frozen=True)
class UnitRow:
    rank: int
    unit: Unit
    counted_fen: int
    households: int


@dataclass(frozen=True)
class BuyerRow:
    rank: int
    nickname: str
    paid_fen: int


BOARD_SORTS = ("amount", "households")


def unit_board(session: Session, start: datetime, end: datetime, *, region: Region | None = None,
               by: str = "amount", limit: int = 50) -> list[UnitRow]:
    """Verified units that opted in (in `region`'s subtree), ranked by what counted toward
    them in [start, end) (`by` amount) or by the households their orders reached; units with
    neither are left out; ties share a rank."""
    stmt = select(Unit).where(Unit.status == UnitStatus.verified,
                              Unit.on_leaderboard.is_(True))
    if region is not None:
        stmt = stmt.join(Region, Region.id == Unit.region_id).where(
            Region.path.like(region.path + "%"))
    units = list(session.scalars(stmt))
    ids = [u.id for u in units]
    counted = counted_fen(session, ids, start, end)
    reached = households_reached(session, ids, start, end)
    rows = [(u, counted[u.id], reached[u.id]) for u in units if counted[u.id] > 0 or reached[u.id]]

    def key(row):
        return (row[2], row[1]) if by == "households" else (row[1], row[2])
    rows.sort(key=lambda r: (tuple(-k for k in key(r)), r[0].name, r[0].id))
    return [UnitRow(rank, u, amount, households)
            for rank, (u, amount, households) in zip(_ranks([key(r) for r in rows]), rows,
                                                     strict=True)][:limit]


def buyer_board(session: Session, start: datetime, end: datetime,
                limit: int = 50) -> list[BuyerRow]:
    """Buyers who opted in under a nickname (users.board_nickname), ranked by what their
    orders paid in [start, end) came to net of refunds; only the nickname is shown."""
    total = func.sum(Order.paid_fen - Order.refunded_fen)
    rows = session.execute(
        select(User.board_nickname, total.label("total"))
        .join(Order, Order.buyer_id == User.id)
        .where(User.board_nickname != "", Order.channel != Channel.offline,  # not purchases
               Order.paid_at.is_not(None), Order.paid_at >= start,
               Order.paid_at < end)
        .group_by(User.id, User.board_nickname).having(total > 0)
        .order_by(total.desc(), User.id).limit(limit)).all()
    return [BuyerRow(rank, nickname, int(amount)) for rank, (nickname, amount) in
            zip(_ranks([r[1] for r in rows]), rows, strict=True)]


def _ranks(keys: list) -> list[int]:
    """Competition ranks (1, 2, 2, 4) of keys already sorted best first."""
    ranks = []
    for i, key in enumerate(keys):
        ranks.append(ranks[-1] if i and key == keys[i - 1] else i + 1)
    return ranks


def period_bounds(period: str, today: date, start: date | None = None,
                  end: date | None = None) -> tuple[datetime, datetime]:
    """[from, to) in China time of a leaderboard's period: "month" (this month), "year" (this
    year), or "range" from `start` to `end` (both days included)."""
    if period == "range" and start is not None and end is not None and start <= end:
        return (datetime.combine(start, time(), CHINA),
                datetime.combine(end + timedelta(days=1), time(), CHINA))
    if period == "year":
        return year_bounds(today.year)
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return datetime.combine(first, time(), CHINA), datetime.combine(following, time(), CHINA)
