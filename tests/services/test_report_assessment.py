"""The ranking of sub-regions, its weights and its published versions, and the households
without income with the notices to their liaisons; both engines, on a real session."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEntry
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.households.models import HouseholdStatus
from marketplace.notifications.models import Notification
from marketplace.orders import services as orders
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments.capture import record_payment
from marketplace.regions.models import Region
from marketplace.reports import assessment, periods, targeting
from marketplace.reports.assessment import Weights
from marketplace.sellers.models import SellerKind
from tests.fixtures.factories import (
    DELIVERY,
    make_household,
    make_product,
    make_seller,
    make_user,
)

NOVEMBER = periods.month(2026, 11)


def _region(session, code):
    return session.scalar(select(Region).where(Region.code == code))


def _sell(session, buyer, product, quantity, at, key):
    order, = orders.checkout(session, buyer, [LineInput(product.id, quantity)],
                             AddressInput(**DELIVERY), idempotency_key=f"report-{key}")
    record_payment(session, order, provider="simulated", reference=f"sim-{key}",
                   amount_fen=order.total_fen, currency="CNY", now=at)


@pytest.fixture
def county(session):
    """洞口县 with two villages in 月溪镇 and (through the national tree) 溆浦县's village;
    shops: one in 洪溪村 sells in October and November, one in 古楼村 only in November."""
    liaison = make_user(session, "liaison", name="王联络")
    a = make_household(session, village_code="430525101201", n=301, liaison=liaison)
    b = make_household(session, village_code="430525101202", n=302, liaison=liaison,
                       status=HouseholdStatus.monitored)
    c = make_household(session, village_code="430525101202", n=303,
                       status=HouseholdStatus.monitored)
    d = make_household(session, village_code="431224210201", n=304, liaison=liaison)
    shops = []
    for household in (a, b):
        shop = make_seller(session, kind=SellerKind.household_shop, household=household,
                           region_code=household.village.code)
        shop.household_share_bp = 10000
        shops.append(make_product(session, shop, price_fen=1000, stock=100))
    buyer = make_user(session)
    _sell(session, buyer, shops[0], 2, datetime(2026, 10, 10, 4, tzinfo=UTC), "oct-a")
    _sell(session, buyer, shops[0], 1, datetime(2026, 11, 10, 4, tzinfo=UTC), "nov-a")
    _sell(session, buyer, shops[1], 3, datetime(2026, 11, 12, 4, tzinfo=UTC), "nov-b")
    session.commit()
    return {"households": (a, b, c, d), "liaison": liaison,
            "office": make_user(session, "office", region_obj=_region(session, "430525"))}


def test_villages_ranked_with_their_indicators(session, county):
    township = _region(session, "430525101")
    found = assessment.ranking(session, township, NOVEMBER)
    by_code = {r.code: r for r in found.rows}
    hongxi, gulou = by_code["430525101201"], by_code["430525101202"]
    assert hongxi.indicators["income"] == 1000 and gulou.indicators["income"] == 1500
    assert hongxi.indicators["coverage"] == 10000 and gulou.indicators["coverage"] == 5000
    assert hongxi.indicators["growth"] == -5000  # 2000 in October, 1000 in November
    assert gulou.indicators["growth"] is None  # nothing before
    assert hongxi.indicators["units"] is None
    # income: gulou best; coverage: hongxi best; growth: only hongxi (lowest=highest: full)
    assert hongxi.score == 30 * 100 + 15 * 100 and gulou.score == 40 * 100
    assert [r.code for r in found.rows] == ["430525101201", "430525101202"]
    assert (hongxi.rank, gulou.rank) == (1, 2)
    assert hongxi.previous_rank == 1 and hongxi.rank_change == 0


def test_weights_change_the_order_and_are_audited(session, county):
    township = _region(session, "430525101")
    office = county["office"]
    assessment.set_weights(session, office, township, Weights(100, 0, 0, 0),
                           now=datetime(2026, 12, 1, tzinfo=UTC))
    session.commit()
    assert assessment.weights_for(session, township) == Weights(100, 0, 0, 0)
    found = assessment.ranking(session, township, NOVEMBER)
    assert [r.code for r in found.rows][0] == "430525101202"
    with pytest.raises(ValidationFailed):
        assessment.set_weights(session, office, township, Weights(50, 30, 10, 0),
                               now=datetime(2026, 12, 1, tzinfo=UTC))
    actions = session.scalars(select(AuditEntry.action)).all()
    assert "assessment_weights_set" in actions


def test_published_assessments_are_kept_and_versioned(session, county):
    township = _region(session, "430525101")
    office = county["office"]
    first = assessment.publish(session, office, township, NOVEMBER,
                               now=datetime(2026, 12, 1, tzinfo=UTC))
    session.commit()
    first_rows = [(r.code, r.rank, r.score) for r in first.rows]
    assessment.set_weights(session, office, township, Weights(100, 0, 0, 0),
                           now=datetime(2026, 12, 2, tzinfo=UTC))
    second = assessment.publish(session, office, township, NOVEMBER,
                                now=datetime(2026, 12, 2, tzinfo=UTC), note="调整权重后重发")
    session.commit()
    assert (first.version, second.version) == (1, 2)
    session.expire_all()
    again = assessment.get_published(session, first.id, township)
    assert [(r.code, r.rank, r.score) for r in again.rows] == first_rows  # kept as published
    assert [a.version for a in assessment.published(session, township)] == [2, 1]
    with pytest.raises(NotFound):
        assessment.get_published(session, first.id, _region(session, "430525"))


def test_households_without_income_monitored_first(session, county):
    a, b, c, d = county["households"]
    found = targeting.without_income(session, _region(session, "430525"), NOVEMBER)
    assert [r.code for r in found.items] == [c.code]  # a and b earned in November
    assert found.total == 1 and found.monitored == 1
    october = targeting.without_income(session, None, periods.month(2026, 10))
    codes = [r.code for r in october.items]
    assert codes.index(b.code) < codes.index(d.code)  # monitored first
    assert a.code not in codes and {b.code, c.code, d.code} <= set(codes)
    assert all("*" in r.display_name for r in october.items)  # masked


def test_each_liaison_is_told_of_theirs_once(session, county):
    liaison = county["liaison"]
    told, orphans = targeting.notify_liaisons(session, county["office"], None,
                                              periods.month(2026, 10))
    session.commit()
    assert told == 1 and orphans == 1  # c has no liaison
    notes = session.scalars(select(Notification).where(
        Notification.user_id == liaison.id)).all()
    assert len(notes) == 1 and "2 户" in notes[0].text
    assert "liaisons_notified" in session.scalars(select(AuditEntry.action)).all()
