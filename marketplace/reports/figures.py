"""The figures of an office's report for a region and a period, read from the pre-aggregates
(`ledger.rollup`: `income_days`, `sales_days`) and the households, in a handful of GROUP BYs
whatever the size of the region:

- attributed income (归属收入, net of reversals) of the households under the region, by channel,
  category and seller kind, for the period, the period before and the same period a year
  earlier (one statement, a bucket per period);
- the households reached (net income > 0 in the period) and the registered and monitored ones;
- sales (goods paid minus goods refunded) of the sellers located under the region, online and
  offline (the `offline` channel), by channel, category and seller kind;
- the sub-regions one level down (a village's: its households) and a monthly trend.

A region's attributed income for a period is, by construction, the sum of its households'
statement entries of those China dates (tests/services/test_report_reconciliation.py proves it).
`region` None is everywhere (platform admins); its sub-regions are the provinces.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from marketplace.catalog.models import Category
from marketplace.households.models import Household, HouseholdStatus
from marketplace.ledger.models import IncomeDay, SalesDay
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


def _child_key(path: str, depth: int) -> str:
    """The code of the sub-region one level under a region of `depth` codes that `path` (a
    village's, or a seller's region's) lies in; OWN when the path is the region's own."""
    codes = path.strip("/").split("/")
    return codes[depth] if len(codes) > depth else OWN


def _within(path_column, region: Region | None):
    return literal(True) if region is None else subtree_condition(path_column, region)


def _buckets(column, ranges: list[Period]):
    """The index of the range a day falls in (the ranges must not overlap)."""
    return case(*[(and_(column >= p.start, column <= p.end), i) for i, p in enumerate(ranges)],
                else_=-1)


def _any(column, ranges: list[Period]):
    return or_(*[and_(column >= p.start, column <= p.end) for p in ranges])


def report(session: Session, region: Region | None, period: Period, *,
           children: bool = True, trend_months: int = 12) -> Report:
    previous, year_before = periods.previous(period), periods.year_before(period)
    out = Report(region, period, previous, year_before, Figures(), Figures(), Figures())
    ranges = [period, previous, year_before]
    # one statement per kind of figure for the three periods; a year's "year before" is its
    # period before (read once, copied); a long custom period's year before overlaps the others
    # and is then read on its own
    same = (year_before.start, year_before.end) == (previous.start, previous.end)
    groups = [[0, 1]] if same else [[0, 1, 2]] if _disjoint(ranges) else [[0, 1], [2]]
    figures = [out.now, out.before, out.year_ago]
    kids: dict[str, Child] = {}
    depth = len(region.path_codes) if region is not None else 0
    by_household = out.households_level
    village, place = aliased(Region), aliased(Region)
    # rows come grouped by sub-region already (the path's prefix down to the child's code),
    # so that a province's report hands Python a few dozen rows, not one per village
    length = _child_code_length(session, region)
    key_col = IncomeDay.household_id if by_household else _child_prefix(region, length,
                                                                          village.path)
    place_key = _child_prefix(region, length, place.path)
    monitored_ids = None
    for group in groups:
        chosen = [ranges[i] for i in group]
        bucket = _buckets(IncomeDay.day, chosen)
        # attributed income, by sub-region (or household), channel, category and seller kind
        rows = session.execute(
            select(bucket, key_col, IncomeDay.channel, IncomeDay.category_id,
                   IncomeDay.seller_kind, func.sum(IncomeDay.amount_fen))
            .join(village, village.id == IncomeDay.village_id)
            .where(_within(village.path, region), _any(IncomeDay.day, chosen))
            .group_by(bucket, key_col, IncomeDay.channel, IncomeDay.category_id,
                      IncomeDay.seller_kind)).all()
        for b, key, channel, category, kind, amount in rows:
            which = group[b]
            figures[which].attributed_fen += int(amount)
            if which == 0:
                _split(out.by_channel, channel).attributed_fen += int(amount)
                _split(out.by_category, str(category)).attributed_fen += int(amount)
                _split(out.by_seller_kind, kind).attributed_fen += int(amount)
                if children:
                    _kid(kids, key, depth, by_household).figures.attributed_fen += int(amount)
        # the households reached (a positive sum in the period), counted by sub-region
        # (their status from the region's monitored households, read once: joining the
        # households to every row, or to the reached ones, cost more than the sums)
        reached = session.execute(
            select(bucket, key_col).join(village, village.id == IncomeDay.village_id)
            .where(_within(village.path, region), _any(IncomeDay.day, chosen))
            .group_by(bucket, IncomeDay.household_id, key_col)
            .having(func.sum(IncomeDay.amount_fen) > 0)
            .add_columns(IncomeDay.household_id)).all()
        if monitored_ids is None:
            monitored_ids = _monitored(session, region)
        counted: dict[tuple, list[int]] = {}
        for b, key, household in reached:
            row = counted.setdefault((b, key), [0, 0])
            row[0] += 1
            row[1] += household in monitored_ids
        for (b, key), (count, monitored) in counted.items():
            which = group[b]
            figures[which].reached += count
            figures[which].monitored_reached += monitored
            if which == 0 and children:
                kid = _kid(kids, key, depth, by_household)
                kid.figures.reached += count
                kid.figures.monitored_reached += monitored
        # sales of the sellers under the region
        sbucket = _buckets(SalesDay.day, chosen)
        for b, path, channel, category, kind, sales, refunds in session.execute(
                select(sbucket, place_key, SalesDay.channel, SalesDay.category_id,
                       SalesDay.seller_kind, func.sum(SalesDay.sales_fen),
                       func.sum(SalesDay.refunds_fen))
                .join(Seller, Seller.id == SalesDay.seller_id)
                .join(place, place.id == Seller.region_id)
                .where(_within(place.path, region), _any(SalesDay.day, chosen))
                .group_by(sbucket, place_key, SalesDay.channel, SalesDay.category_id,
                          SalesDay.seller_kind)):
            which, net = group[b], int(sales) - int(refunds)
            figures[which].sales_fen += net
            figures[which].offline_fen += net if channel == OFFLINE else 0
            if which == 0:
                _split(out.by_channel, channel).sales_fen += net
                _split(out.by_category, str(category)).sales_fen += net
                _split(out.by_seller_kind, kind).sales_fen += net
                if children and not by_household:
                    kid = _kid(kids, path, depth, False)
                    kid.figures.sales_fen += net
                    kid.figures.offline_fen += net if channel == OFFLINE else 0
    if same:
        out.year_ago = replace(out.before)
    _registered(session, region, out, kids if children else None, depth, by_household, length)
    for f in (out.before, out.year_ago):
        f.registered, f.monitored = out.now.registered, out.now.monitored
    if children:
        out.children = _named_children(session, region, kids, by_household)
    _label_splits(session, out)
    if trend_months:
        out.trend = trend(session, region, period, trend_months)
    return out


def _monitored(session: Session, region: Region | None) -> set[int]:
    """The ids of the monitored households (监测户) under the region."""
    village = aliased(Region)
    return set(session.scalars(
        select(Household.id).join(village, village.id == Household.village_id)
        .where(_within(village.path, region), Household.status == HouseholdStatus.monitored)))


def _child_code_length(session: Session, region: Region | None) -> int | None:
    """The length of the codes of the region's children (one length under GB/T 2260), or
    None when they differ."""
    parent = Region.parent_id.is_(None) if region is None else Region.parent_id == region.id
    lengths = set(session.scalars(select(func.length(Region.code)).where(parent).distinct()))
    return lengths.pop() if len(lengths) == 1 else None


def _child_prefix(region: Region | None, length: int | None, path_column):
    """The path of the sub-region one level under `region` that a row's path lies in, as SQL
    (`substr`: the region's path, the child's code of `length`, '/'); a path of the region
    itself comes out whole. Children's codes of several lengths: the whole path (the sub-region
    is then found in Python)."""
    if length is None:
        return path_column
    return func.substr(path_column, 1, len(region.path if region else "/") + length + 1)


def _disjoint(ranges: list[Period]) -> bool:
    spans = sorted((p.start, p.end) for p in ranges)
    return all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))


def _split(items: list[Split], key: str) -> Split:
    for item in items:
        if item.key == key:
            return item
    items.append(Split(key))
    return items[-1]


def _kid(kids: dict[str, Child], key, depth: int, by_household: bool) -> Child:
    code = str(key) if by_household else _child_key(key, depth)
    if code not in kids:
        kids[code] = Child(code, "", Figures(), own=code == OWN)
    return kids[code]


def _registered(session: Session, region: Region | None, out: Report,
                kids: dict[str, Child] | None, depth: int, by_household: bool,
                length: int | None) -> None:
    village = aliased(Region)
    key_col = Household.id if by_household else _child_prefix(region, length, village.path)
    for key, status, count in session.execute(
            select(key_col, Household.status, func.count())
            .join(village, village.id == Household.village_id)
            .where(_within(village.path, region))
            .group_by(key_col, Household.status)):
        monitored = count if status == HouseholdStatus.monitored else 0
        out.now.registered += count
        out.now.monitored += monitored
        if kids is not None:
            kid = _kid(kids, key, depth, by_household)
            kid.figures.registered += count
            kid.figures.monitored += monitored


def _named_children(session: Session, region: Region | None, kids: dict[str, Child],
                    by_household: bool) -> list[Child]:
    """The sub-regions with registered households or figures, with their names, in code order;
    under a village all its households (id keys become codes), with masked names."""
    if by_household:
        found = session.execute(select(Household).where(
            Household.village_id == region.id).order_by(Household.code)).scalars().all()
        out = []
        for household in found:
            kid = kids.get(str(household.id)) or Child(household.code, "", Figures())
            kid.key, kid.name = household.code, household.masked_name
            kid.household_status = str(household.status)
            out.append(kid)
        return out
    parent = Region.parent_id.is_(None) if region is None else Region.parent_id == region.id
    out = []
    for child in session.scalars(select(Region).where(parent).order_by(Region.code)):
        kid = kids.get(child.code)
        if kid is None:
            continue  # no registered households, sales or income: a place the platform
            # does not work in yet (the national tree has thousands)
        kid.name = child.name
        out.append(kid)
    if OWN in kids:
        kid = kids[OWN]
        kid.name = "本级经营主体"
        out.append(kid)
    return out


def _label_splits(session: Session, out: Report) -> None:
    from marketplace.ledger.statements import CHANNEL_LABELS
    from marketplace.sellers.models import SELLER_KIND_LABELS, SellerKind
    names = {str(cid): name for cid, name in session.execute(
        select(Category.id, Category.name_zh))}
    kinds = {str(k.value): str(v) for k, v in SELLER_KIND_LABELS.items()
             if isinstance(k, SellerKind)}
    for item in out.by_channel:
        item.label = CHANNEL_LABELS.get(item.key, item.key)
    for item in out.by_category:
        item.label = names.get(item.key, item.key)
    for item in out.by_seller_kind:
        item.label = kinds.get(item.key, item.key)
    order = {c.value: i for i, c in enumerate(Channel)}
    out.by_channel.sort(key=lambda s: order.get(s.key, 99))
    out.by_category.sort(key=lambda s: (-s.sales_fen, -s.attributed_fen, s.key))
    kind_order = {k.value: i for i, k in enumerate(SellerKind)}
    out.by_seller_kind.sort(key=lambda s: kind_order.get(s.key, 99))


def trend(session: Session, region: Region | None, period: Period,
          months: int = 12) -> list[TrendPoint]:
    """Sales and attributed income by month, the `months` months up to the period's last."""
    last = period.end.year * 100 + period.end.month
    wanted, y, m = [], last // 100, last % 100
    for _ in range(months):
        wanted.append(y * 100 + m)
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    points = {mo: TrendPoint(mo) for mo in sorted(wanted)}
    village, place = aliased(Region), aliased(Region)
    for mo, amount in session.execute(
            select(IncomeDay.month, func.sum(IncomeDay.amount_fen))
            .join(village, village.id == IncomeDay.village_id)
            .where(_within(village.path, region), IncomeDay.month.in_(wanted))
            .group_by(IncomeDay.month)):
        points[mo].attributed_fen = int(amount)
    for mo, sales, refunds in session.execute(
            select(SalesDay.month, func.sum(SalesDay.sales_fen), func.sum(SalesDay.refunds_fen))
            .join(Seller, Seller.id == SalesDay.seller_id)
            .join(place, place.id == Seller.region_id)
            .where(_within(place.path, region), SalesDay.month.in_(wanted))
            .group_by(SalesDay.month)):
        points[mo].sales_fen = int(sales) - int(refunds)
    return list(points.values())


def household_income(session: Session, household_ids: list[int], period: Period) -> dict[int, int]:
    """Household id -> attributed income in the period (households without any left out)."""
    if not household_ids:
        return {}
    return {hid: int(amount) for hid, amount in session.execute(
        select(IncomeDay.household_id, func.sum(IncomeDay.amount_fen))
        .where(IncomeDay.household_id.in_(sorted(set(household_ids))),
               IncomeDay.day >= period.start, IncomeDay.day <= period.end)
        .group_by(IncomeDay.household_id))}
