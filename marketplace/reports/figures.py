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


def _child_key(path: str, depth: int) -> str:
    """The code of the sub-region one level under a region of `depth` codes that `path` (a
    village's, or a seller's region's) lies in; OWN when the path is the region's own."""
    codes = path.strip("/").split("/")
    return codes[depth] if len(codes) > depth else OWN


def _within(path_column, region: Region | None):
    return literal(True) if region is None else subtree_condition(path_column, region)


def _buckets(column, ranges: list[tuple]):
    """The index of the (first, last) range a value falls in (the ranges must not overlap)."""
    return case(*[(and_(column >= a, column <= b), i) for i, (a, b) in enumerate(ranges)],
                else_=-1)


def _any(column, ranges: list[tuple]):
    return or_(*[and_(column >= a, column <= b) for a, b in ranges])


def _days(ranges: list[Period]) -> list[tuple]:
    return [(p.start, p.end) for p in ranges]


def _months(ranges: list[Period]) -> list[tuple]:
    return [(p.months()[0], p.months()[-1]) for p in ranges]


# Core tables: the report's statements are built without the ORM's adaptation (its cost was
# a third of a county report's time: bench/reports.py)
_ID, _SD = IncomeDay.__table__, SalesDay.__table__
_IM, _SM, _HP = IncomeMonth.__table__, SalesMonth.__table__, HouseholdPeriod.__table__
_R, _H, _S = Region.__table__, Household.__table__, Seller.__table__
AREA_DEPTH = rollup.AREA_CODES  # a county's codes: the months' areas


def _in_areas(table, region: Region | None, depth: int, keyed: bool = False):
    """(from, conditions, area alias) restricting a months table to the areas under the region:
    a county's is its own (no join: the planner would read every area's months, then the
    county's); above, the areas by path (`keyed`: also when the sub-region's key is wanted)."""
    if region is not None and depth == AREA_DEPTH and not keyed:
        return table, [table.c.area_id == region.id], None
    area = _R.alias("a")
    return table.join(area, area.c.id == table.c.area_id), [_within(area.c.path, region)], area


def report(session: Session, region: Region | None, period: Period, *,
           children: bool = True, trend_months: int = 12, grain: str = "auto") -> Report:
    """The figures of `region` (None: everywhere) for `period`, the period before and the same
    period a year earlier. A month, quarter or year reads the monthly pre-aggregates and the
    households' periods; other dates (or `grain="days"`, which the parity tests use) the
    days'. Both give the same figures."""
    previous, year_before = periods.previous(period), periods.year_before(period)
    out = Report(region, period, previous, year_before, Figures(), Figures(), Figures())
    ranges = [period, previous, year_before]
    # a year's "year before" is its period before (read once, copied)
    same = (year_before.start, year_before.end) == (previous.start, previous.end)
    wanted = [0, 1] if same else [0, 1, 2]
    depth = len(region.path_codes) if region is not None else 0
    kids: dict[str, Child] = {}
    keyed = grain != "days" and all(ranges[i].key is not None for i in wanted)
    # a county or below: its regions (a few hundred) by id, so that its villages are looked
    # up one by one and their sub-regions found in Python; above, by path in the statements
    paths = (dict(session.connection().execute(
        select(_R.c.id, _R.c.path).where(_within(_R.c.path, region))).all())
        if keyed and depth >= AREA_DEPTH else None)
    length = None if paths is not None else _child_code_length(session, region)
    if keyed:
        _from_periods(session, region, ranges, wanted, out, kids, depth, length, children,
                      paths)
    else:
        _from_days(session, region, ranges, same, out, kids, depth, length, children)
    if same:
        out.year_ago = replace(out.before)
    _registered(session, region, out, kids if children else None, depth,
                out.households_level, length, paths)
    for f in (out.before, out.year_ago):
        f.registered, f.monitored = out.now.registered, out.now.monitored
    if children:
        out.children = _named_children(session, region, kids, out.households_level)
    _label_splits(session, out)
    if trend_months:
        out.trend = trend(session, region, period, trend_months,
                          monthly=grain != "days" and depth <= AREA_DEPTH)
    return out


def _from_periods(session: Session, region: Region | None, ranges: list[Period],
                  wanted: list[int], out: Report, kids: dict[str, Child], depth: int,
                  length: int | None, children: bool, paths: dict[int, str] | None) -> None:
    """A month's, quarter's or year's figures: income and reach by sub-region from the
    households' periods; the splits and the sales from the months where the region is a
    county or above (from the days below, where regions are small)."""
    figures = [out.now, out.before, out.year_ago]
    by_household = out.households_level
    conn = session.connection()
    village = _R.alias("v")
    key_col = (_HP.c.household_id if by_household
               else _child_prefix(region, length, village.c.path))
    keys = {ranges[i].key: i for i in wanted}
    positive = _HP.c.amount_fen > 0
    monitored = _H.c.status == HouseholdStatus.monitored
    if paths is not None:
        # by path, the planner would read the period's rows of every village, then keep the
        # county's
        key_col = _HP.c.household_id if by_household else _HP.c.village_id
        joined = _HP.join(_H, _H.c.id == _HP.c.household_id)
        # (`period + 0`: by the key, village by village, not by the period's index)
        where = [_HP.c.village_id.in_(sorted(paths)), (_HP.c.period + 0).in_(sorted(keys))]
    else:
        joined = (_HP.join(village, village.c.id == _HP.c.village_id)
                  .join(_H, _H.c.id == _HP.c.household_id))
        where = [_within(village.c.path, region), _HP.c.period.in_(sorted(keys))]
    for key, child, amount, reached, monitored_reached in conn.execute(
            select(_HP.c.period, key_col, func.sum(_HP.c.amount_fen),
                   func.sum(case((positive, 1), else_=0)),
                   func.sum(case((and_(positive, monitored), 1), else_=0)))
            .select_from(joined).where(*where).group_by(_HP.c.period, key_col)):
        f = figures[keys[key]]
        f.attributed_fen += int(amount)
        f.reached += int(reached)
        f.monitored_reached += int(monitored_reached)
        if keys[key] == 0 and children:
            where_is = child if by_household or paths is None else paths[child]
            kid = _kid(kids, where_is, depth, by_household)
            kid.figures.attributed_fen += int(amount)
            kid.figures.reached += int(reached)
            kid.figures.monitored_reached += int(monitored_reached)
    # the period's income by channel, category and seller kind
    if depth <= AREA_DEPTH:
        (first, last), = _months(ranges[:1])
        joined, where, _a = _in_areas(_IM, region, depth)
        split_rows = conn.execute(
            select(_IM.c.channel, _IM.c.category_id, _IM.c.seller_kind, func.sum(_IM.c.amount_fen))
            .select_from(joined).where(_IM.c.month >= first, _IM.c.month <= last, *where)
            .group_by(_IM.c.channel, _IM.c.category_id, _IM.c.seller_kind))
    else:
        split_rows = conn.execute(
            select(_ID.c.channel, _ID.c.category_id, _ID.c.seller_kind, func.sum(_ID.c.amount_fen))
            .select_from(_ID.join(village, village.c.id == _ID.c.village_id))
            .where(_ID.c.day >= ranges[0].start, _ID.c.day <= ranges[0].end,
                   _within(village.c.path, region))
            .group_by(_ID.c.channel, _ID.c.category_id, _ID.c.seller_kind))
    for channel, category, kind, amount in split_rows:
        _split(out.by_channel, channel).attributed_fen += int(amount)
        _split(out.by_category, str(category)).attributed_fen += int(amount)
        _split(out.by_seller_kind, kind).attributed_fen += int(amount)
    # sales: the period by sub-region and split (the months' areas are counties: their
    # sub-regions only above a county), the other periods' totals (the months down to a county)
    current = _sales(conn, region, ranges[:1], length, with_dims=True,
                     monthly=depth < AREA_DEPTH, depth=depth)
    _add_sales(out, figures, [0], current, kids if children and not by_household else None,
               depth)
    others = [ranges[i] for i in wanted[1:]]
    rest = _sales(conn, region, others, length, with_dims=False, monthly=depth <= AREA_DEPTH,
                  depth=depth)
    _add_sales(out, figures, wanted[1:], rest, None, depth)


def _sales(conn, region: Region | None, ranges: list[Period], length: int | None,
           with_dims: bool, monthly: bool, depth: int = 0):
    """Goods paid minus goods refunded in the ranges (a bucket each), by sub-region and split
    (`with_dims`) or by channel only; from the months by area, or the days by seller."""
    if monthly:
        table, spans, when = _SM, _months(ranges), _SM.c.month
        joined, where, place = _in_areas(_SM, region, depth, keyed=with_dims)
    else:
        table, spans, when, place = _SD, _days(ranges), _SD.c.day, _R.alias("p")
        joined = (_SD.join(_S, _S.c.id == _SD.c.seller_id)
                  .join(place, place.c.id == _S.c.region_id))
        where = [_within(place.c.path, region)]
    bucket = _buckets(when, spans)
    dims = ([table.c.channel, table.c.category_id, table.c.seller_kind] if with_dims
            else [table.c.channel])
    place_key = _child_prefix(region, length, place.c.path) if with_dims else literal("")
    group = [bucket, *dims] + ([place_key] if with_dims else [])
    stmt = (select(bucket, place_key, *dims, func.sum(table.c.sales_fen),
                   func.sum(table.c.refunds_fen))
            .select_from(joined).where(_any(when, spans), *where).group_by(*group))
    return _sales_rows(conn.execute(stmt), with_dims)


def _sales_rows(rows, with_dims: bool):
    """(bucket, path, channel, category, kind, net) from either source."""
    for row in rows:
        if with_dims:
            b, path, channel, category, kind, sales, refunds = row
        else:
            (b, path, channel, sales, refunds), category, kind = row, None, None
        yield b, path, channel, category, kind, int(sales) - int(refunds)


def _add_sales(out: Report, figures: list[Figures], which: list[int], rows,
               kids: dict[str, Child] | None, depth: int) -> None:
    for b, path, channel, category, kind, net in rows:
        f = figures[which[b]]
        offline = net if channel == OFFLINE else 0
        f.sales_fen += net
        f.offline_fen += offline
        if which[b] == 0 and category is not None:
            _split(out.by_channel, channel).sales_fen += net
            _split(out.by_category, str(category)).sales_fen += net
            _split(out.by_seller_kind, kind).sales_fen += net
            if kids is not None:
                kid = _kid(kids, path, depth, False)
                kid.figures.sales_fen += net
                kid.figures.offline_fen += offline


def _from_days(session: Session, region: Region | None, ranges: list[Period], same: bool,
               out: Report, kids: dict[str, Child], depth: int, length: int | None,
               children: bool) -> None:
    """Any dates' figures from the days: one statement per kind of figure for the three
    periods (a long custom period's year before overlaps the others and is then read on its
    own)."""
    groups = [[0, 1]] if same else [[0, 1, 2]] if _disjoint(ranges) else [[0, 1], [2]]
    figures = [out.now, out.before, out.year_ago]
    by_household = out.households_level
    conn = session.connection()
    village = _R.alias("v")
    # rows come grouped by sub-region already (the path's prefix down to the child's code),
    # so that a province's report hands Python a few dozen rows, not one per village
    key_col = (_ID.c.household_id if by_household
               else _child_prefix(region, length, village.c.path))
    monitored_ids = None
    for group in groups:
        spans = _days([ranges[i] for i in group])
        bucket = _buckets(_ID.c.day, spans)
        joined = _ID.join(village, village.c.id == _ID.c.village_id)
        where = (_within(village.c.path, region), _any(_ID.c.day, spans))
        # attributed income, by sub-region (or household), channel, category and seller kind
        for b, key, channel, category, kind, amount in conn.execute(
                select(bucket, key_col, _ID.c.channel, _ID.c.category_id, _ID.c.seller_kind,
                       func.sum(_ID.c.amount_fen)).select_from(joined).where(*where)
                .group_by(bucket, key_col, _ID.c.channel, _ID.c.category_id,
                          _ID.c.seller_kind)):
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
        reached = conn.execute(
            select(bucket, key_col, _ID.c.household_id).select_from(joined).where(*where)
            .group_by(bucket, _ID.c.household_id, key_col)
            .having(func.sum(_ID.c.amount_fen) > 0)).all()
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
        _add_sales(out, figures, group,
                   _sales(conn, region, [ranges[i] for i in group], length, with_dims=True,
                          monthly=False),
                   kids if children and not by_household else None, depth)


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
                length: int | None, paths: dict[int, str] | None = None) -> None:
    if paths is not None:  # the villages by id (see report)
        key_col = _H.c.id if by_household else _H.c.village_id
        stmt = (select(key_col, _H.c.status, func.count())
                .where(_H.c.village_id.in_(sorted(paths))).group_by(key_col, _H.c.status))
    else:
        village = _R.alias("v")
        key_col = _H.c.id if by_household else _child_prefix(region, length, village.c.path)
        stmt = (select(key_col, _H.c.status, func.count())
                .select_from(_H.join(village, village.c.id == _H.c.village_id))
                .where(_within(village.c.path, region)).group_by(key_col, _H.c.status))
    for key, status, count in session.connection().execute(stmt):
        if paths is not None and not by_household:
            key = paths[key]
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
          months: int = 12, *, monthly: bool | None = None) -> list[TrendPoint]:
    """Sales and attributed income by month, the `months` months up to the period's last:
    from the months where the region is a county or above (`monthly` None), else the days."""
    last = period.end.year * 100 + period.end.month
    wanted, y, m = [], last // 100, last % 100
    for _ in range(months):
        wanted.append(y * 100 + m)
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    points = {mo: TrendPoint(mo) for mo in sorted(wanted)}
    if monthly is None:
        monthly = region is None or len(region.path_codes) <= AREA_DEPTH
    conn = session.connection()
    if monthly:
        depth = len(region.path_codes) if region is not None else 0
        joined, where, _a = _in_areas(_IM, region, depth)
        income = (select(_IM.c.month, func.sum(_IM.c.amount_fen)).select_from(joined)
                  .where(_IM.c.month.in_(wanted), *where).group_by(_IM.c.month))
        joined, where, _a = _in_areas(_SM, region, depth)
        sales = (select(_SM.c.month, func.sum(_SM.c.sales_fen), func.sum(_SM.c.refunds_fen))
                 .select_from(joined).where(_SM.c.month.in_(wanted), *where)
                 .group_by(_SM.c.month))
    else:
        village, place = _R.alias("v"), _R.alias("p")
        income = (select(_ID.c.month, func.sum(_ID.c.amount_fen))
                  .select_from(_ID.join(village, village.c.id == _ID.c.village_id))
                  .where(_within(village.c.path, region), _ID.c.month.in_(wanted))
                  .group_by(_ID.c.month))
        sales = (select(_SD.c.month, func.sum(_SD.c.sales_fen), func.sum(_SD.c.refunds_fen))
                 .select_from(_SD.join(_S, _S.c.id == _SD.c.seller_id)
                              .join(place, place.c.id == _S.c.region_id))
                 .where(_within(place.c.path, region), _SD.c.month.in_(wanted))
                 .group_by(_SD.c.month))
    for mo, amount in conn.execute(income):
        points[mo].attributed_fen = int(amount)
    for mo, paid, refunds in conn.execute(sales):
        points[mo].sales_fen = int(paid) - int(refunds)
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
