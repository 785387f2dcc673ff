"""The two roads a report's figures are read by (both give the same figures:
tests/services/test_report_reconciliation.py compares them for every preset):

- `from_periods`: a month, quarter or year from `household_periods` (income, reach and monitored
  reach by sub-region in one statement) and, for a county and above, the months (splits,
  sales); a county's villages looked up by id;
- `from_days`: any dates from the days, one statement per kind of figure for the three periods
  (a bucket per period).
"""
from __future__ import annotations

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from marketplace.households.models import Household, HouseholdStatus
from marketplace.regions.models import Region
from marketplace.reports.periods import Period
from marketplace.reports.shapes import (
    AREA_DEPTH,
    HOUSEHOLD_PERIODS,
    HOUSEHOLDS,
    INCOME_DAYS,
    INCOME_MONTHS,
    OFFLINE,
    REGIONS,
    SALES_DAYS,
    SALES_MONTHS,
    SELLERS,
    Child,
    Figures,
    Report,
    any_of,
    buckets,
    child_prefix,
    day_spans,
    disjoint,
    in_areas,
    kid_of,
    month_spans,
    split_of,
    within,
)


def from_periods(session: Session, region: Region | None, ranges: list[Period],
                  wanted: list[int], out: Report, kids: dict[str, Child], depth: int,
                  length: int | None, children: bool, paths: dict[int, str] | None) -> None:
    """A month's, quarter's or year's figures: income and reach by sub-region from the
    households' periods; the splits and the sales from the months where the region is a
    county or above (from the days below, where regions are small)."""
    figures = [out.now, out.before, out.year_ago]
    by_household = out.households_level
    conn = session.connection()
    village = REGIONS.alias("v")
    key_col = (HOUSEHOLD_PERIODS.c.household_id if by_household
               else child_prefix(region, length, village.c.path))
    keys = {ranges[i].key: i for i in wanted}
    positive = HOUSEHOLD_PERIODS.c.amount_fen > 0
    monitored = HOUSEHOLDS.c.status == HouseholdStatus.monitored
    if paths is not None:
        # by path, the planner would read the period's rows of every village, then keep the
        # county's
        key_col = HOUSEHOLD_PERIODS.c.household_id if by_household else HOUSEHOLD_PERIODS.c.village_id
        joined = HOUSEHOLD_PERIODS.join(HOUSEHOLDS, HOUSEHOLDS.c.id == HOUSEHOLD_PERIODS.c.household_id)
        # (`period + 0`: by the key, village by village, not by the period's index)
        where = [HOUSEHOLD_PERIODS.c.village_id.in_(sorted(paths)), (HOUSEHOLD_PERIODS.c.period + 0).in_(sorted(keys))]
    else:
        joined = (HOUSEHOLD_PERIODS.join(village, village.c.id == HOUSEHOLD_PERIODS.c.village_id)
                  .join(HOUSEHOLDS, HOUSEHOLDS.c.id == HOUSEHOLD_PERIODS.c.household_id))
        where = [within(village.c.path, region), HOUSEHOLD_PERIODS.c.period.in_(sorted(keys))]
    for key, child, amount, reached, monitored_reached in conn.execute(
            select(HOUSEHOLD_PERIODS.c.period, key_col, func.sum(HOUSEHOLD_PERIODS.c.amount_fen),
                   func.sum(case((positive, 1), else_=0)),
                   func.sum(case((and_(positive, monitored), 1), else_=0)))
            .select_from(joined).where(*where).group_by(HOUSEHOLD_PERIODS.c.period, key_col)):
        f = figures[keys[key]]
        f.attributed_fen += int(amount)
        f.reached += int(reached)
        f.monitored_reached += int(monitored_reached)
        if keys[key] == 0 and children:
            where_is = child if by_household or paths is None else paths[child]
            kid = kid_of(kids, where_is, depth, by_household)
            kid.figures.attributed_fen += int(amount)
            kid.figures.reached += int(reached)
            kid.figures.monitored_reached += int(monitored_reached)
    # the period's income by channel, category and seller kind
    if depth <= AREA_DEPTH:
        (first, last), = month_spans(ranges[:1])
        joined, where, _a = in_areas(INCOME_MONTHS, region, depth)
        split_rows = conn.execute(
            select(INCOME_MONTHS.c.channel, INCOME_MONTHS.c.category_id, INCOME_MONTHS.c.seller_kind, func.sum(INCOME_MONTHS.c.amount_fen))
            .select_from(joined).where(INCOME_MONTHS.c.month >= first, INCOME_MONTHS.c.month <= last, *where)
            .group_by(INCOME_MONTHS.c.channel, INCOME_MONTHS.c.category_id, INCOME_MONTHS.c.seller_kind))
    else:
        split_rows = conn.execute(
            select(INCOME_DAYS.c.channel, INCOME_DAYS.c.category_id, INCOME_DAYS.c.seller_kind, func.sum(INCOME_DAYS.c.amount_fen))
            .select_from(INCOME_DAYS.join(village, village.c.id == INCOME_DAYS.c.village_id))
            .where(INCOME_DAYS.c.day >= ranges[0].start, INCOME_DAYS.c.day <= ranges[0].end,
                   within(village.c.path, region))
            .group_by(INCOME_DAYS.c.channel, INCOME_DAYS.c.category_id, INCOME_DAYS.c.seller_kind))
    for channel, category, kind, amount in split_rows:
        split_of(out.by_channel, channel).attributed_fen += int(amount)
        split_of(out.by_category, str(category)).attributed_fen += int(amount)
        split_of(out.by_seller_kind, kind).attributed_fen += int(amount)
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
        table, spans, when = SALES_MONTHS, month_spans(ranges), SALES_MONTHS.c.month
        joined, where, place = in_areas(SALES_MONTHS, region, depth, keyed=with_dims)
    else:
        table, spans, when, place = SALES_DAYS, day_spans(ranges), SALES_DAYS.c.day, REGIONS.alias("p")
        joined = (SALES_DAYS.join(SELLERS, SELLERS.c.id == SALES_DAYS.c.seller_id)
                  .join(place, place.c.id == SELLERS.c.region_id))
        where = [within(place.c.path, region)]
    bucket = buckets(when, spans)
    dims = ([table.c.channel, table.c.category_id, table.c.seller_kind] if with_dims
            else [table.c.channel])
    place_key = child_prefix(region, length, place.c.path) if with_dims else literal("")
    group = [bucket, *dims] + ([place_key] if with_dims else [])
    stmt = (select(bucket, place_key, *dims, func.sum(table.c.sales_fen),
                   func.sum(table.c.refunds_fen))
            .select_from(joined).where(any_of(when, spans), *where).group_by(*group))
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
            split_of(out.by_channel, channel).sales_fen += net
            split_of(out.by_category, str(category)).sales_fen += net
            split_of(out.by_seller_kind, kind).sales_fen += net
            if kids is not None:
                kid = kid_of(kids, path, depth, False)
                kid.figures.sales_fen += net
                kid.figures.offline_fen += offline

def from_days(session: Session, region: Region | None, ranges: list[Period], same: bool,
               out: Report, kids: dict[str, Child], depth: int, length: int | None,
               children: bool) -> None:
    """Any dates' figures from the days: one statement per kind of figure for the three
    periods (a long custom period's year before overlaps the others and is then read on its
    own)."""
    groups = [[0, 1]] if same else [[0, 1, 2]] if disjoint(ranges) else [[0, 1], [2]]
    figures = [out.now, out.before, out.year_ago]
    by_household = out.households_level
    conn = session.connection()
    village = REGIONS.alias("v")
    # rows come grouped by sub-region already (the path's prefix down to the child's code),
    # so that a province's report hands Python a few dozen rows, not one per village
    key_col = (INCOME_DAYS.c.household_id if by_household
               else child_prefix(region, length, village.c.path))
    monitored_ids = None
    for group in groups:
        spans = day_spans([ranges[i] for i in group])
        bucket = buckets(INCOME_DAYS.c.day, spans)
        joined = INCOME_DAYS.join(village, village.c.id == INCOME_DAYS.c.village_id)
        where = (within(village.c.path, region), any_of(INCOME_DAYS.c.day, spans))
        # attributed income, by sub-region (or household), channel, category and seller kind
        for b, key, channel, category, kind, amount in conn.execute(
                select(bucket, key_col, INCOME_DAYS.c.channel, INCOME_DAYS.c.category_id, INCOME_DAYS.c.seller_kind,
                       func.sum(INCOME_DAYS.c.amount_fen)).select_from(joined).where(*where)
                .group_by(bucket, key_col, INCOME_DAYS.c.channel, INCOME_DAYS.c.category_id,
                          INCOME_DAYS.c.seller_kind)):
            which = group[b]
            figures[which].attributed_fen += int(amount)
            if which == 0:
                split_of(out.by_channel, channel).attributed_fen += int(amount)
                split_of(out.by_category, str(category)).attributed_fen += int(amount)
                split_of(out.by_seller_kind, kind).attributed_fen += int(amount)
                if children:
                    kid_of(kids, key, depth, by_household).figures.attributed_fen += int(amount)
        # the households reached (a positive sum in the period), counted by sub-region
        # (their status from the region's monitored households, read once: joining the
        # households to every row, or to the reached ones, cost more than the sums)
        reached = conn.execute(
            select(bucket, key_col, INCOME_DAYS.c.household_id).select_from(joined).where(*where)
            .group_by(bucket, INCOME_DAYS.c.household_id, key_col)
            .having(func.sum(INCOME_DAYS.c.amount_fen) > 0)).all()
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
                kid = kid_of(kids, key, depth, by_household)
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
        .where(within(village.path, region), Household.status == HouseholdStatus.monitored)))
