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

from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Category
from marketplace.households.models import Household, HouseholdStatus
from marketplace.ledger.models import (
    IncomeDay,
)
from marketplace.orders.models import Channel
from marketplace.regions.models import Region
from marketplace.reports import periods, roads
from marketplace.reports.periods import Period
from marketplace.reports.shapes import (
    AREA_DEPTH,
    HOUSEHOLDS,
    INCOME_DAYS,
    INCOME_MONTHS,
    OWN,
    REGIONS,
    SALES_DAYS,
    SALES_MONTHS,
    SELLERS,
    Child,
    Figures,
    Report,
    TrendPoint,
    child_code_length,
    child_prefix,
    in_areas,
    kid_of,
    within,
)


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
        select(REGIONS.c.id, REGIONS.c.path).where(within(REGIONS.c.path, region))).all())
        if keyed and depth >= AREA_DEPTH else None)
    length = None if paths is not None else child_code_length(session, region)
    if keyed:
        roads.from_periods(session, region, ranges, wanted, out, kids, depth, length, children,
                      paths)
    else:
        roads.from_days(session, region, ranges, same, out, kids, depth, length, children)
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

def _registered(session: Session, region: Region | None, out: Report,
                kids: dict[str, Child] | None, depth: int, by_household: bool,
                length: int | None, paths: dict[int, str] | None = None) -> None:
    if paths is not None:  # the villages by id (see report)
        key_col = HOUSEHOLDS.c.id if by_household else HOUSEHOLDS.c.village_id
        stmt = (select(key_col, HOUSEHOLDS.c.status, func.count())
                .where(HOUSEHOLDS.c.village_id.in_(sorted(paths))).group_by(key_col, HOUSEHOLDS.c.status))
    else:
        village = REGIONS.alias("v")
        key_col = HOUSEHOLDS.c.id if by_household else child_prefix(region, length, village.c.path)
        stmt = (select(key_col, HOUSEHOLDS.c.status, func.count())
                .select_from(HOUSEHOLDS.join(village, village.c.id == HOUSEHOLDS.c.village_id))
                .where(within(village.c.path, region)).group_by(key_col, HOUSEHOLDS.c.status))
    for key, status, count in session.connection().execute(stmt):
        if paths is not None and not by_household:
            key = paths[key]
        monitored = count if status == HouseholdStatus.monitored else 0
        out.now.registered += count
        out.now.monitored += monitored
        if kids is not None:
            kid = kid_of(kids, key, depth, by_household)
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
        joined, where, _a = in_areas(INCOME_MONTHS, region, depth)
        income = (select(INCOME_MONTHS.c.month, func.sum(INCOME_MONTHS.c.amount_fen)).select_from(joined)
                  .where(INCOME_MONTHS.c.month.in_(wanted), *where).group_by(INCOME_MONTHS.c.month))
        joined, where, _a = in_areas(SALES_MONTHS, region, depth)
        sales = (select(SALES_MONTHS.c.month, func.sum(SALES_MONTHS.c.sales_fen), func.sum(SALES_MONTHS.c.refunds_fen))
                 .select_from(joined).where(SALES_MONTHS.c.month.in_(wanted), *where)
                 .group_by(SALES_MONTHS.c.month))
    else:
        village, place = REGIONS.alias("v"), REGIONS.alias("p")
        income = (select(INCOME_DAYS.c.month, func.sum(INCOME_DAYS.c.amount_fen))
                  .select_from(INCOME_DAYS.join(village, village.c.id == INCOME_DAYS.c.village_id))
                  .where(within(village.c.path, region), INCOME_DAYS.c.month.in_(wanted))
                  .group_by(INCOME_DAYS.c.month))
        sales = (select(SALES_DAYS.c.month, func.sum(SALES_DAYS.c.sales_fen), func.sum(SALES_DAYS.c.refunds_fen))
                 .select_from(SALES_DAYS.join(SELLERS, SELLERS.c.id == SALES_DAYS.c.seller_id)
                              .join(place, place.c.id == SELLERS.c.region_id))
                 .where(within(place.c.path, region), SALES_DAYS.c.month.in_(wanted))
                 .group_by(SALES_DAYS.c.month))
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
