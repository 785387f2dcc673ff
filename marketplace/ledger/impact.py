"""Whom a purchase helped: per order (households reached, masked, with their village and amount)
and per buyer (all their orders: households reached, amount, by county). Amounts are what the
ledger holds now (sales minus reversals)."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.core.validators import mask_name
from marketplace.households.models import Household
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Order, OrderLine, purchases_of
from marketplace.regions.models import LEVEL_CODE_LENGTH, Region, RegionLevel, short_place

COUNTY = LEVEL_CODE_LENGTH[RegionLevel.county]


@dataclass(frozen=True)
class Reached:
    household_id: int
    masked_name: str
    village: str  # county and below, e.g. 洞口县月溪镇洪溪村
    amount_fen: int
    code: str = ""  # the household's code
    public_token: str | None = None  # its public page, while it consents


@dataclass
class OrderImpact:
    attributable_fen: int  # what the order's lines attribute now
    households: list[Reached] = field(default_factory=list)


def _reached(session: Session, where) -> list[tuple]:
    """(household id, head name, village code, village name path, household code, public
    token, amount) of the households holding something from the orders `where` selects, most
    first."""
    amount = func.sum(LedgerEntry.amount_fen)
    return [tuple(row) for row in session.execute(
        select(Household.id, Household.head_name, Region.code, Region.name_path, Household.code,
               Household.public_token, amount)
        .join(LedgerEntry, LedgerEntry.household_id == Household.id)
        .join(OrderLine, OrderLine.id == LedgerEntry.order_line_id)
        .join(Order, Order.id == OrderLine.order_id)
        .join(Region, Region.id == Household.village_id)
        .where(where).group_by(Household.id, Household.head_name, Region.code, Region.name_path,
                               Household.code, Household.public_token)
        .having(amount > 0).order_by(amount.desc(), Household.id))]


def order_impact(session: Session, order: Order) -> OrderImpact:
    reached = [Reached(hid, mask_name(name), short_place(path), int(amount), code, token)
               for hid, name, _village, path, code, token, amount
               in _reached(session, Order.id == order.id)]
    return OrderImpact(sum(r.amount_fen for r in reached), reached)


@dataclass(frozen=True)
class CountyHelp:
    county: str
    households: int
    amount_fen: int


@dataclass
class BuyerImpact:
    orders: int  # paid orders that reached someone
    households: int
    amount_fen: int
    counties: list[CountyHelp] = field(default_factory=list)


def buyer_impact(session: Session, buyer_id: int) -> BuyerImpact:
    """Everything a buyer's orders gave households, by county (most first)."""
    reached = _reached(session, purchases_of(buyer_id))
    orders = session.scalar(
        select(func.count(func.distinct(OrderLine.order_id)))
        .join(LedgerEntry, LedgerEntry.order_line_id == OrderLine.id)
        .join(Order, Order.id == OrderLine.order_id).where(purchases_of(buyer_id))) or 0
    counties: dict[str, list[int]] = {}
    names = {}
    for _hid, _name, code, path, _code, _token, amount in reached:
        names.setdefault(code[:COUNTY], "".join(path.split("/")[1:3]))  # city and county
        entry = counties.setdefault(code[:COUNTY], [0, 0])
        entry[0] += 1
        entry[1] += int(amount)
    by_county = sorted((CountyHelp(names[c], n, a) for c, (n, a) in counties.items()),
                       key=lambda c: (-c.amount_fen, c.county))
    return BuyerImpact(orders, len(reached), sum(int(row[-1]) for row in reached), by_county)
