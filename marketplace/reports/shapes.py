"""The shapes of an office's report (`Figures`, `Split`, `Child`, `TrendPoint`, `Report`) and
the pieces its statements share: subtree conditions, period buckets, sub-region keys, the
pre-aggregates as Core tables (built without the ORM's adaptation: it was a third of a county
report's time, bench/reports.py). `figures.report` assembles a report; `roads` reads it."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from marketplace.households.models import Household
from marketplace.ledger import rollup
from marketplace.ledger.models import (
    HouseholdPeriod,
    IncomeDay,
    IncomeMonth,
    SalesDay,
    SalesMonth,
)
from marketplace.orders.models import Channel
from marketplace.regions.models import Region, RegionLevel
from marketplace.regions.services import subtree_condition
from marketplace.reports import periods
from marketplace.reports.periods import Period
from marketplace.sellers.models import Seller

OFFLINE = Channel.offline.value
OWN = "_own"  # sales of sellers placed at the region itself, in no sub-region

@dataclass
class Figures:
    """One region (or sub-region, or household) in one period."""
    sales_fen: int = 0  # goods paid minus goods refunded
    offline_fen: int = 0  # of which at fairs and markets
    attributed_fen: int = 0
    reached: int = 0  # households with income in the period
    registered: int = 0
    monitored: int = 0  # 监测户 registered
    monitored_reached: int = 0

    @property
    def online_fen(self) -> int:
        return self.sales_fen - self.offline_fen

    @property
    def coverage_bp(self) -> int:
        return periods.share_bp(self.reached, self.registered)

    @property
    def monitored_coverage_bp(self) -> int:
        return periods.share_bp(self.monitored_reached, self.monitored)

    @property
    def average_fen(self) -> int:
        """Attributed income per household reached."""
        return periods.round_half_up(self.attributed_fen, self.reached) if self.reached else 0

    @property
    def per_registered_fen(self) -> int:
        """Attributed income per registered household."""
        return (periods.round_half_up(self.attributed_fen, self.registered)
                if self.registered else 0)

@dataclass
class Split:
    """One channel, category or seller kind."""
    key: str
    label: str = ""
    sales_fen: int = 0
    attributed_fen: int = 0

@dataclass
class Child:
    """A sub-region one level down, or (under a village) a household."""
    key: str  # region code, or household code
    name: str
    figures: Figures
    household_status: str = ""  # for households
    own: bool = False  # the sellers placed at the region itself

@dataclass
class TrendPoint:
    month: int  # 202611
    sales_fen: int = 0
    attributed_fen: int = 0

    @property
    def label(self) -> str:
        return f"{self.month // 100}-{self.month % 100:02d}"

@dataclass
class Report:
    region: Region | None
    period: Period
    previous: Period
    year_before: Period
    now: Figures
    before: Figures  # the period before
    year_ago: Figures
    by_channel: list[Split] = field(default_factory=list)
    by_category: list[Split] = field(default_factory=list)
    by_seller_kind: list[Split] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)
    trend: list[TrendPoint] = field(default_factory=list)

    @property
    def households_level(self) -> bool:
        return self.region is not None and self.region.level == RegionLevel.village

def child_key(path: str, depth: int) -> str:
    """The code of the sub-region one level under a region of `depth` codes that `path` (a
    village's, or a seller's region's) lies in; OWN when the path is the region's own."""
    codes = path.strip("/").split("/")
    return codes[depth] if len(codes) > depth else OWN

def within(path_column, region: Region | None):
    return literal(True) if region is None else subtree_condition(path_column, region)

def buckets(column, ranges: list[tuple]):
    """The index of the (first, last) range a value falls in (the ranges must not overlap)."""
    return case(*[(and_(column >= a, column <= b), i) for i, (a, b) in enumerate(ranges)],
                else_=-1)

def any_of(column, ranges: list[tuple]):
    return or_(*[and_(column >= a, column <= b) for a, b in ranges])

def day_spans(ranges: list[Period]) -> list[tuple]:
    return [(p.start, p.end) for p in ranges]

def month_spans(ranges: list[Period]) -> list[tuple]:
    return [(p.months()[0], p.months()[-1]) for p in ranges]

# Core tables: the report's statements are built without the ORM's adaptation (its cost was
# a third of a county report's time: bench/reports.py)

INCOME_DAYS, SALES_DAYS = IncomeDay.__table__, SalesDay.__table__
INCOME_MONTHS, SALES_MONTHS, HOUSEHOLD_PERIODS = IncomeMonth.__table__, SalesMonth.__table__, HouseholdPeriod.__table__
REGIONS, HOUSEHOLDS, SELLERS = Region.__table__, Household.__table__, Seller.__table__

AREA_DEPTH = rollup.AREA_CODES  # a county's codes: the months' areas

def in_areas(table, region: Region | None, depth: int, keyed: bool = False):
    """(from, conditions, area alias) restricting a months table to the areas under the region:
    a county's is its own (no join: the planner would read every area's months, then the
    county's); above, the areas by path (`keyed`: also when the sub-region's key is wanted)."""
    if region is not None and depth == AREA_DEPTH and not keyed:
        return table, [table.c.area_id == region.id], None
    area = REGIONS.alias("a")
    return table.join(area, area.c.id == table.c.area_id), [within(area.c.path, region)], area

def child_code_length(session: Session, region: Region | None) -> int | None:
    """The length of the codes of the region's children (one length under GB/T 2260), or
    None when they differ."""
    parent = Region.parent_id.is_(None) if region is None else Region.parent_id == region.id
    lengths = set(session.scalars(select(func.length(Region.code)).where(parent).distinct()))
    return lengths.pop() if len(lengths) == 1 else None

def child_prefix(region: Region | None, length: int | None, path_column):
    """The path of the sub-region one level under `region` that a row's path lies in, as SQL
    (`substr`: the region's path, the child's code of `length`, '/'); a path of the region
    itself comes out whole. Children's codes of several lengths: the whole path (the sub-region
    is then found in Python)."""
    if length is None:
        return path_column
    return func.substr(path_column, 1, len(region.path if region else "/") + length + 1)

def disjoint(ranges: list[Period]) -> bool:
    spans = sorted((p.start, p.end) for p in ranges)
    return all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))

def split_of(items: list[Split], key: str) -> Split:
    for item in items:
        if item.key == key:
            return item
    items.append(Split(key))
    return items[-1]

def kid_of(kids: dict[str, Child], key, depth: int, by_household: bool) -> Child:
    code = str(key) if by_household else child_key(key, depth)
    if code not in kids:
        kids[code] = Child(code, "", Figures(), own=code == OWN)
    return kids[code]
