"""Property: whatever orders are paid and refunded, at whatever times (China midnights
included), a region's attributed income in a report for any period is exactly the sum of its
households' statement entries of those China dates, the households reached are those with a
positive sum, the sales are the goods paid minus the goods refunded in the period, and the
ledger with its pre-aggregates verifies. Both engines, on a real session."""
from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marketplace.core.time import CHINA
from marketplace.households.models import Household
from marketplace.ledger import chain, rollup, statements
from marketplace.orders import services as orders
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import refunds
from marketplace.payments.capture import record_payment
from marketplace.regions.models import Region
from marketplace.reports import figures, periods
from marketplace.sellers.models import Seller, SellerKind
from tests.fixtures.factories import (
    DELIVERY,
    make_household,
    make_product,
    make_seller,
    make_user,
)

_numbers = itertools.count(20_000, 10)
START = datetime(2026, 9, 30, 15, 0, tzinfo=UTC)  # 23:00 China time, 30 September
VILLAGES = ["430525101201", "430525101202", "431224210201"]
REGIONS = [None, "43", "430525", "430525101", "430525101201", "431224", "431224210201"]

PRESETS = [periods.month(2026, 10), periods.month(2026, 11), periods.month(2026, 12),
           periods.quarter(2026, 4), periods.year(2026), periods.month(2027, 10)]
sale = st.fixed_dictionaries({
    "hours": st.integers(0, 24 * 75),  # after START: Oct to mid-December, midnights included
    "product": st.integers(0, 2),
    "quantity": st.integers(1, 4),
    "refund": st.sampled_from([None, "part", "all", "part_then_rest"]),
    "refund_after": st.integers(0, 24 * 40),
})


def _setup(session):
    n = next(_numbers)
    households = [make_household(session, village_code=VILLAGES[i % 3], n=n + i, key=f"k{n}")
                  for i in range(5)]
    coop = make_seller(session, members=[(h, w) for h, w in zip(households, (1, 2, 3, 1, 5),
                                                                   strict=True)])
    coop.household_share_bp = 3000
    shop = make_seller(session, kind=SellerKind.household_shop, household=households[2],
                       region_code="430525101202")
    shop.household_share_bp = 10000
    offsite = make_seller(session, region_code="431224")  # an enterprise-like seller, no members
    products = [make_product(session, coop, price_fen=4999, stock=10_000),
                make_product(session, shop, price_fen=1234, stock=10_000),
                make_product(session, offsite, price_fen=777, stock=10_000)]
    return households, products, make_user(session, "buyer"), make_user(session, "platform_admin")


@settings(max_examples=16, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sales=st.lists(sale, min_size=1, max_size=6),
       period=st.one_of(st.tuples(st.integers(0, 80), st.integers(0, 80)), st.sampled_from(PRESETS)),
       region_index=st.integers(0, len(REGIONS) - 1))
def test_report_figures_are_the_statements_sums(session, sales, period, region_index):
    households, products, buyer, admin = _setup(session)
    for i, s in enumerate(sales):
        at = START + timedelta(hours=s["hours"])
        order, = orders.checkout(session, buyer, [LineInput(products[s["product"]].id,
                                                            s["quantity"])],
                                 AddressInput(**DELIVERY), idempotency_key=f"r{id(s)}-{i}")
        record_payment(session, order, provider="simulated", reference=f"sim-{order.id}",
                       amount_fen=order.total_fen, currency="CNY", now=at)
        back = at + timedelta(hours=s["refund_after"])
        if s["refund"] in ("part", "part_then_rest"):
            refunds.refund(session, admin, order, amount_fen=max(1, order.paid_fen // 3),
                           now=back)
        if s["refund"] in ("all", "part_then_rest"):
            refunds.refund(session, admin, order, now=back + timedelta(hours=1))
        session.commit()

    if isinstance(period, periods.Period):  # a month, quarter or year: the months' road
        span, first, last = period, period.start, period.end
    else:
        first = date(2026, 9, 30) + timedelta(days=min(period))
        last = date(2026, 9, 30) + timedelta(days=max(period))
        span = periods.between(first, last)
    code = REGIONS[region_index]
    region = session.scalar(select(Region).where(Region.code == code)) if code else None
    found = figures.report(session, region, span, trend_months=0)
    # the months and the households' periods give what the days give, every figure
    for preset in PRESETS:
        assert figures.report(session, region, preset) == figures.report(
            session, region, preset, grain="days"), preset.name

    # attributed income and reach: the statements of the region's households
    mine = [h for h in session.scalars(select(Household)).all()
            if region is None or h.village.path.startswith(region.path)]
    nets = {h.id: statements.period_statement(session, h.id, first, last).net_fen for h in mine}
    assert found.now.attributed_fen == sum(nets.values())
    assert found.now.reached == sum(1 for v in nets.values() if v > 0)
    assert sum(c.figures.attributed_fen for c in found.children) == found.now.attributed_fen

    # sales: goods paid minus goods refunded, by China date, of the sellers under the region
    income, sales_rows = rollup.derive(session.connection())
    assert rollup.stored(session.connection()) == (income, sales_rows)
    expected = 0
    seller_paths = {s.id: s.region.path for s in session.scalars(select(Seller))}
    for (day, seller_id, _ch, _cat, _kind), (paid, back, _n) in sales_rows.items():
        path = seller_paths.get(seller_id)
        if path and first <= day <= last and (region is None or path.startswith(region.path)):
            expected += paid - back
    assert found.now.sales_fen == expected
    assert chain.verify(session).ok


def test_china_midnight_splits_days(session):
    """A payment at 23:59 and one at 00:00 China time fall on two days in the report."""
    households, products, buyer, _admin = _setup(session)
    times = [datetime(2026, 11, 30, 23, 59, tzinfo=CHINA), datetime(2026, 12, 1, 0, 0,
                                                                     tzinfo=CHINA)]
    for i, at in enumerate(times):
        order, = orders.checkout(session, buyer, [LineInput(products[1].id, 1)],
                                 AddressInput(**DELIVERY), idempotency_key=f"midnight-{i}")
        record_payment(session, order, provider="simulated", reference=f"sim-m-{order.id}",
                       amount_fen=order.total_fen, currency="CNY", now=at.astimezone(UTC))
    session.commit()
    november = figures.report(session, None, periods.month(2026, 11), trend_months=0)
    december = figures.report(session, None, periods.month(2026, 12), trend_months=0)
    assert november.now.attributed_fen == december.now.attributed_fen == 1234
    assert november.now.sales_fen == december.now.sales_fen == 1234
    assert december.before.attributed_fen == 1234  # November is December's period before
    assert chain.verify(session).ok
