"""Counting orders toward a unit (summed from orders, never stored), households reached and the
leaderboards, on both engines."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from marketplace.core.errors import NotFound, RuleBroken, ValidationFailed
from marketplace.core.time import CHINA
from marketplace.orders.models import Channel, Checkout, Order
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import refunds
from marketplace.payments.capture import record_payment
from marketplace.units import counting
from marketplace.units import services as units
from marketplace.units.models import UnitKind, UnitStatus
from tests.fixtures.factories import DELIVERY, make_cooperative, make_product, make_user
from tests.fixtures.units import make_unit

AT_2025 = datetime(2025, 6, 1, 10, tzinfo=CHINA)
AT_2026 = datetime(2026, 1, 1, 0, 30, tzinfo=CHINA)  # just after midnight, China time


@pytest.fixture
def world(session):
    seller, households = make_cooperative(session, first=800, weights=(1, 1))
    tea = make_product(session, seller, price_fen=5000, stock=500)
    admin, member, outsider = make_user(session), make_user(session), make_user(session)
    unit = make_unit(session, admin=admin, members=[member])
    union = make_unit(session, kind=UnitKind.union, admin=admin, members=[member])
    session.commit()
    return {"tea": tea, "admin": admin, "member": member, "outsider": outsider, "unit": unit,
            "union": union, "households": households,
            "platform": make_user(session, "platform_admin")}


def buy(session, world, who, unit, quantity=1, *, channel=Channel.unit_member, at=AT_2025,
        key=None, purpose="", pay=True):
    orders = units.checkout_for_unit(
        session, world[who], [LineInput(world["tea"].id, quantity)], AddressInput(**DELIVERY),
        channel=channel, unit_id=unit.id, purpose=purpose,
        idempotency_key=key or f"k-{who}-{unit.id}-{at:%j%H}-{quantity}")
    order, = orders
    if pay:
        record_payment(session, order, provider="simulated", reference=f"sim-{order.id}",
                       amount_fen=order.total_fen, currency="CNY", now=at)
    session.commit()
    return order


def test_members_orders_count_per_unit_and_year_net_of_refunds(session, world):
    unit, union = world["unit"], world["union"]
    first = buy(session, world, "member", unit, 2)
    buy(session, world, "admin", unit, 1, channel=Channel.unit_purchase)
    buy(session, world, "member", union, 3)
    late = buy(session, world, "member", unit, 1, at=AT_2026)
    buy(session, world, "member", unit, 4, pay=False)  # unpaid: not counted
    assert first.unit_id == unit.id and first.channel == Channel.unit_member
    totals_2025 = counting.counted_in_year(session, [unit.id, union.id], 2025)
    assert totals_2025 == {unit.id: first.total_fen + 5000 + first.shipping_fen,
                           union.id: 15000 + first.shipping_fen}
    assert counting.counted_in_year(session, [unit.id], 2026) == {unit.id: late.total_fen}
    refunds.refund(session, world["platform"], first, amount_fen=3000)
    session.commit()
    assert counting.counted_in_year(session, [unit.id], 2025)[unit.id] \
        == totals_2025[unit.id] - 3000


def test_an_order_of_a_non_member_is_refused_and_nothing_written(session, world):
    with pytest.raises(RuleBroken) as err:
        buy(session, world, "outsider", world["unit"])
    assert err.value.message == "您不是该单位的成员，不能计入该单位"
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert session.scalar(select(func.count()).select_from(Checkout)) == 0
    assert session.get(type(world["tea"]), world["tea"].id).stock == 500


def test_only_admins_buy_for_the_unit_and_only_unions_mark_purposes(session, world):
    with pytest.raises(RuleBroken):
        buy(session, world, "member", world["unit"], channel=Channel.unit_purchase)
    with pytest.raises(RuleBroken):
        buy(session, world, "admin", world["unit"], channel=Channel.unit_purchase,
            purpose="welfare")
    with pytest.raises(ValidationFailed):
        buy(session, world, "admin", world["union"], channel=Channel.unit_purchase,
            purpose="party")
    order = buy(session, world, "admin", world["union"], channel=Channel.unit_purchase,
                purpose="condolence")
    assert order.unit_purpose == "condolence"


def test_unknown_and_unverified_units(session, world):
    with pytest.raises(NotFound):
        units.check_countable(session, world["member"], 999999, Channel.unit_member)
    pending = make_unit(session, status=UnitStatus.pending)
    with pytest.raises(NotFound):
        units.check_countable(session, world["member"], pending.id, Channel.unit_member)
    with pytest.raises(ValidationFailed):
        units.check_countable(session, world["member"], world["unit"].id, Channel.individual)


def test_a_unit_purchase_without_an_address_goes_to_the_unit(session, world):
    order, = units.checkout_for_unit(
        session, world["admin"], [LineInput(world["tea"].id, 1)], None,
        channel=Channel.unit_purchase, unit_id=world["unit"].id, idempotency_key="unit-addr-1")
    assert order.address_detail == world["unit"].address_detail
    assert order.recipient == world["unit"].contact_name


def test_the_same_key_answers_the_same_orders(session, world):
    first = buy(session, world, "member", world["unit"], key="same-key-1", pay=False)
    again = buy(session, world, "member", world["unit"], key="same-key-1", pay=False)
    assert first.id == again.id


def test_households_reached_and_the_unit_board(session, world):
    unit, union = world["unit"], world["union"]
    buy(session, world, "member", unit, 2)
    buy(session, world, "member", union, 1)
    start, end = counting.year_bounds(2025)
    assert counting.households_reached(session, [unit.id, union.id], start, end) \
        == {unit.id: 2, union.id: 2}
    assert counting.unit_board(session, start, end) == []  # nobody opted in
    unit.on_leaderboard = union.on_leaderboard = True
    session.commit()
    board = counting.unit_board(session, start, end)
    assert [(r.rank, r.unit.id) for r in board] == [(1, unit.id), (2, union.id)]
    by_households = counting.unit_board(session, start, end, by="households")
    # both reached two households: the amount decides
    assert [(r.rank, r.households, r.unit.id) for r in by_households] \
        == [(1, 2, unit.id), (2, 2, union.id)]
    elsewhere = make_unit(session, region_code="431224")
    elsewhere.on_leaderboard = True
    session.commit()
    from tests.fixtures.factories import region
    assert counting.unit_board(session, start, end, region=region(session, "431224")) == []
    assert len(counting.unit_board(session, start, end, region=region(session, "43"))) == 2


def test_buyers_board_shows_only_nicknames_net_of_refunds(session, world):
    first = buy(session, world, "member", world["unit"], 2)
    buy(session, world, "admin", world["unit"], 1)
    start, end = counting.year_bounds(2025)
    assert counting.buyer_board(session, start, end) == []
    world["member"].board_nickname = "茶香"
    world["admin"].board_nickname = "老刘"
    session.commit()
    board = counting.buyer_board(session, start, end)
    assert [(r.rank, r.nickname) for r in board] == [(1, "茶香"), (2, "老刘")]
    refunds.refund(session, world["platform"], first)
    session.commit()
    assert [r.nickname for r in counting.buyer_board(session, start, end)] == ["老刘"]


def test_period_bounds():
    today = date(2026, 2, 14)
    start, end = counting.period_bounds("month", today)
    assert (start.date(), end.date()) == (date(2026, 2, 1), date(2026, 3, 1))
    start, end = counting.period_bounds("year", today)
    assert (start.date(), end.date()) == (date(2026, 1, 1), date(2027, 1, 1))
    start, end = counting.period_bounds("range", today, date(2026, 1, 5), date(2026, 1, 5))
    assert (start.date(), end.date()) == (date(2026, 1, 5), date(2026, 1, 6))
