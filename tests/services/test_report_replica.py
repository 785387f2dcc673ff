"""The reports' figures read through the replica (core.db.reports_session: on PostgreSQL the
streaming replica .ci/run starts, on SQLite a second read-only engine) are those of the primary,
once the replica has replayed what was committed; the ranking and the households without income
too. Both engines."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from marketplace.core.db import is_replica, reports_session
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import refunds
from marketplace.payments.capture import record_payment
from marketplace.regions.models import Region
from marketplace.reports import assessment, figures, periods, targeting
from marketplace.sellers.models import SellerKind
from tests.fixtures.databases import sync_replica
from tests.fixtures.factories import (
    DELIVERY,
    Maker,
    make_household,
    make_product,
    make_seller,
    make_user,
)

NOVEMBER = periods.month(2026, 11)


def _sales(session):
    households = [make_household(session, village_code=code, n=n) for n, code in
                  ((401, "430525101201"), (402, "430525101202"), (403, "430525101202"))]
    shop = make_seller(session, kind=SellerKind.household_shop, household=households[0],
                       region_code="430525101201")
    shop.household_share_bp = 10000
    coop = make_seller(session, members=[(households[1], 1), (households[2], 3)],
                       region_code="430525101")
    eggs = make_product(session, shop, price_fen=3600, stock=50)
    tea = make_product(session, coop, price_fen=9999, stock=50)
    buyer, admin = make_user(session), make_user(session, "platform_admin")
    for i, (product, quantity, at) in enumerate([
            (eggs, 2, datetime(2026, 10, 20, 3, tzinfo=UTC)),
            (tea, 1, datetime(2026, 11, 2, 3, tzinfo=UTC)),
            (eggs, 3, datetime(2026, 11, 30, 15, 59, tzinfo=UTC))]):  # 23:59 China time
        order, = orders.checkout(session, buyer, [LineInput(product.id, quantity)],
                                 AddressInput(**DELIVERY), idempotency_key=f"replica-{i:04d}")
        record_payment(session, order, provider="simulated", reference=f"sim-rep-{i}",
                       amount_fen=order.total_fen, currency="CNY", now=at)
        if i == 1:
            refunds.refund(session, admin, order, amount_fen=3333,
                           now=datetime(2026, 11, 5, 3, tzinfo=UTC))
    return "430525"


def _seen(session, code):
    county = session.scalar(select(Region).where(Region.code == code))
    found = figures.report(session, county, NOVEMBER)
    ranked = assessment.ranking(session, county, NOVEMBER)
    without = targeting.without_income(session, county, NOVEMBER)
    return (found.now, found.before, found.year_ago,
            [(c.key, c.figures) for c in found.children],
            [(s.key, s.sales_fen, s.attributed_fen) for s in found.by_channel + found.by_category
             + found.by_seller_kind],
            [(t.month, t.sales_fen, t.attributed_fen) for t in found.trend],
            [(r.code, r.rank, r.score) for r in ranked.rows],
            [r.code for r in without.items])


def test_the_replica_reports_what_the_primary_holds(replica_app):
    code = Maker(replica_app)(_sales)
    sync_replica(replica_app)
    with replica_app.app_context():
        on_primary = _seen(db.session, code)
        with reports_session() as session:
            assert session is not db.session
            on_replica = _seen(session, code)
            replica = is_replica(session)
    assert on_replica == on_primary
    assert on_primary[0].attributed_fen > 0 and on_primary[0].sales_fen > 0
    if replica_app.config["REPORTS_DATABASE_URL"].startswith("postgresql"):
        assert replica  # a real standby
