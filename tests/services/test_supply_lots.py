"""Supply lots (收购批次) on SQLite and PostgreSQL: recording and its checks, the guaranteed
minimum price flag, first-in-first-out draws at posting that attribute by units drawn, lots that
fall short, and concurrent sales that never draw a unit twice."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.errors import Conflict, NotFound, RuleBroken, ValidationFailed
from marketplace.ledger import chain as ledger
from marketplace.ledger import lots
from marketplace.ledger.lots import LotInput
from marketplace.ledger.models import LedgerEntry, LotDraw, SupplyLot
from marketplace.notifications.models import Notification
from marketplace.orders.models import OrderLine
from marketplace.sellers.models import SellerKind
from tests.fixtures.factories import make_household, make_product, make_seller, make_user, region
from tests.services.test_attribution import by_household, paid


@pytest.fixture
def firm(session):
    households = [make_household(session, n=800 + i) for i in range(3)]
    seller = make_seller(session, kind=SellerKind.enterprise,  # its linked households
                         members=[(h, 1) for h in households])
    seller.household_share_bp = 2000
    oil = make_product(session, seller, name="山茶油", price_fen=10000, stock=100)
    staff = make_user(session, "seller_staff", seller=seller)
    session.commit()
    return {"seller": seller, "oil": oil, "staff": staff, "households": households,
            "buyer": make_user(session, "buyer")}


def lot(session, firm, household, quantity, day, price="20.00"):
    made = lots.record_lot(session, firm["staff"], firm["seller"], LotInput(
        firm["oil"].id, household.code, quantity, price, day))
    session.commit()
    return made


def test_recording_checks_every_field_at_once(session, firm):
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    with pytest.raises(ValidationFailed) as caught:
        lots.record_lot(session, firm["staff"], firm["seller"],
                        LotInput("x", "NOPE", "0", "1.234", tomorrow))
    assert set(caught.value.errors) == {
        "product_id", "household_code", "quantity", "unit_price", "purchased_on"}
    other = make_product(session, make_seller(session, kind=SellerKind.enterprise))
    with pytest.raises(ValidationFailed) as caught:  # another seller's product
        lots.record_lot(session, firm["staff"], firm["seller"], LotInput(
            other.id, firm["households"][0].code, 5, "10", date.today()))
    assert "product_id" in caught.value.errors
    assert session.scalar(select(func.count()).select_from(SupplyLot)) == 0


def test_only_cooperatives_and_enterprises_record_lots_and_only_their_staff(session, firm):
    hh = firm["households"][0]
    shop = make_seller(session, kind=SellerKind.household_shop, household=hh)
    eggs = make_product(session, shop)
    admin = make_user(session, "platform_admin")
    with pytest.raises(RuleBroken):
        lots.record_lot(session, admin, shop, LotInput(eggs.id, hh.code, 1, "1", date.today()))
    with pytest.raises(NotFound):  # somebody else's seller is not there for them
        lots.record_lot(session, make_user(session, "seller_staff"), firm["seller"],
                        LotInput(firm["oil"].id, hh.code, 1, "1", date.today()))


def test_a_lot_below_the_guaranteed_price_is_flagged_to_seller_and_offices_over_it(
        session, firm):
    hh = firm["households"][0]  # in 洪溪村, under 月溪镇 and 洞口县
    county_office = make_user(session, "office", region_obj=region(session, "430525"))
    township_office = make_user(session, "office", region_obj=region(session, "430525101"))
    elsewhere = make_user(session, "office", region_obj=region(session, "431224"))
    lots.set_product_terms(session, firm["staff"], firm["oil"], lot_backed=True,
                           guaranteed_price="18.50")
    fair = lot(session, firm, hh, 10, date.today(), price="18.50")
    low = lot(session, firm, hh, 10, date.today(), price="16")
    assert (fair.below_guarantee, low.below_guarantee) == (False, True)
    assert low.guaranteed_price_fen == 1850
    told = set(session.scalars(select(Notification.user_id)))
    assert told == {firm["staff"].id, county_office.id, township_office.id}
    assert elsewhere.id not in told
    assert [x.id for x in lots.flagged_lots(session, [region(session, "430525101")])] == [low.id]
    assert lots.flagged_lots(session, [region(session, "431224")]) == []
    assert [x.id for x in lots.flagged_lots(session, None)] == [low.id]


def test_sales_draw_first_in_first_out_and_attribute_by_units_drawn(session, firm):
    a, b, c = firm["households"]
    today = date.today()
    later = lot(session, firm, c, 50, today)
    first = lot(session, firm, a, 3, today - timedelta(days=9))  # recorded later, bought first
    second = lot(session, firm, b, 4, today - timedelta(days=5))
    order = paid(session, firm["buyer"], [(firm["oil"], 5)], "lot-fifo-1")
    line = session.scalar(select(OrderLine).where(OrderLine.order_id == order.id))
    assert line.attributable_fen == 50000 * 2000 // 10000
    assert by_household(session) == {a.id: 6000, b.id: 4000}  # 3 and 2 units of 5
    session.expire_all()
    assert [session.get(SupplyLot, x.id).remaining for x in (first, second, later)] == [0, 2, 50]
    assert sorted(session.execute(select(LotDraw.lot_id, LotDraw.quantity)).all()) == sorted(
        [(first.id, 3), (second.id, 2)])
    paid(session, firm["buyer"], [(firm["oil"], 4)], "lot-fifo-2")
    assert by_household(session) == {a.id: 6000, b.id: 4000 + 4000, c.id: 4000}
    assert ledger.verify(session).ok


def test_units_no_lot_covers_attribute_nothing(session, firm):
    hh = firm["households"][0]
    lot(session, firm, hh, 2, date.today())
    order = paid(session, firm["buyer"], [(firm["oil"], 5)], "lot-short-1")
    line = session.scalar(select(OrderLine).where(OrderLine.order_id == order.id))
    assert line.attributable_fen == 50000 * 2000 * 2 // (10000 * 5)
    assert by_household(session) == {hh.id: line.attributable_fen}
    assert ledger.verify(session).ok


def test_a_cooperative_product_switched_to_lots_no_longer_goes_by_member_weight(session):
    member, grower = make_household(session, n=880), make_household(session, n=881)
    coop = make_seller(session, members=[(member, 1), (grower, 1)])
    coop.household_share_bp = 5000
    staff = make_user(session, "seller_staff", seller=coop)
    tea = make_product(session, coop, price_fen=1000)
    lots.set_product_terms(session, staff, tea, share="", lot_backed=True, guaranteed_price="")
    lots.record_lot(session, staff, coop, LotInput(tea.id, grower.code, 9, "3", date.today()))
    session.commit()
    paid(session, make_user(session, "buyer"), [(tea, 2)], "lot-coop-1")
    assert by_household(session) == {grower.id: 1000}
    assert tea.guaranteed_price_fen is None


def test_a_lot_can_be_removed_until_a_sale_draws_on_it(session, firm):
    hh = firm["households"][0]
    kept, spare = lot(session, firm, hh, 5, date.today()), lot(session, firm, hh, 5, date.today())
    paid(session, firm["buyer"], [(firm["oil"], 1)], "lot-rm-1")
    with pytest.raises(Conflict):
        lots.remove_lot(session, firm["staff"], firm["seller"], kept.id)
    lots.remove_lot(session, firm["staff"], firm["seller"], spare.id)
    session.commit()
    assert [x.id for x in lots.seller_lots(session, firm["seller"]).items] == [kept.id]
    with pytest.raises(NotFound):
        lots.remove_lot(session, firm["staff"], firm["seller"], spare.id)


def test_concurrent_sales_never_draw_a_unit_twice(app, session, firm):
    from marketplace.extensions import db
    from marketplace.orders import services as orders
    from marketplace.orders.models import Order
    from marketplace.orders.services import AddressInput, LineInput
    from marketplace.payments.capture import record_payment
    from tests.fixtures.concurrency import run_at_once
    from tests.fixtures.factories import DELIVERY
    a, b = firm["households"][:2]
    lot(session, firm, a, 4, date.today() - timedelta(days=1))
    lot(session, firm, b, 6, date.today())
    ids = []
    for i in range(8):
        order, = orders.checkout(session, firm["buyer"], [LineInput(firm["oil"].id, 2)],
                                 AddressInput(**DELIVERY), idempotency_key=f"lot-conc-{i}")
        ids.append((order.id, order.total_fen))
    session.commit()

    def pay(i: int) -> str:
        order_id, total = ids[i]
        record_payment(db.session, db.session.get(Order, order_id), provider="simulated",
                              reference=f"lot-conc-{i}", amount_fen=total, currency="CNY")
        return "paid"

    assert run_at_once(app, 8, pay) == ["paid"] * 8
    session.expire_all()
    assert session.scalar(select(func.sum(LotDraw.quantity))) == 10  # 16 sold, 10 in lots
    assert session.scalar(select(func.min(SupplyLot.remaining))) == 0
    assert by_household(session) == {a.id: 4 * 2000, b.id: 6 * 2000}
    assert sum(session.scalars(select(OrderLine.attributable_fen))) == 10 * 2000
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 5  # 2 units each
    assert ledger.verify(session).ok


@pytest.mark.parametrize(("typed", "bp"), [("30", 3000), ("12.5", 1250), ("０.０１", 1),
                                            ("100%", 10000), (" 7.25 ", 725), (4321, 4321)])
def test_shares_are_typed_in_percent_and_kept_in_basis_points(typed, bp):
    assert lots.parse_share(typed) == bp


@pytest.mark.parametrize("typed", ["", "-1", "100.01", "1.234", "abc", "1e2", 10001])
def test_bad_shares_are_refused(typed):
    with pytest.raises(ValidationFailed):
        lots.parse_share(typed)


def test_a_products_share_wins_and_household_shops_take_no_lot_terms(session, firm):
    hh = firm["households"][0]
    lots.set_product_terms(session, firm["staff"], firm["oil"], share="50")
    lot(session, firm, hh, 5, date.today())
    paid(session, firm["buyer"], [(firm["oil"], 1)], "lot-share-1")
    assert by_household(session) == {hh.id: 5000}
    assert firm["oil"].lot_backed  # an enterprise's products always are
    shop = make_seller(session, kind=SellerKind.household_shop, household=hh)
    owner = make_user(session, "seller_staff", seller=shop)
    eggs = make_product(session, shop)
    with pytest.raises(RuleBroken):
        lots.set_product_terms(session, owner, eggs, guaranteed_price="3")
    lots.set_seller_share(session, owner, shop, "100")
    assert shop.household_share_bp == 10000


def test_drawing_in_the_database_follows_the_fifo_rule(session, firm):
    """lots.draw (one SQL statement on PostgreSQL, rules.draw_fifo on SQLite) gives what the
    rule gives, for many random lot lists and quantities."""
    import random

    from marketplace.core.time import now_utc
    from marketplace.ledger.rules import Lot, draw_fifo

    def tuple_of(d):
        return d.lot_id, d.household_id, d.quantity
    rng = random.Random(5)
    order = paid(session, firm["buyer"], [(firm["oil"], 1)], "lot-rule-1")
    line_id = order.lines[0].id
    homes = firm["households"]
    for case in range(12):
        product = make_product(session, firm["seller"], name=f"山茶油{case}", stock=5)
        made = []
        for _ in range(rng.randint(0, 6)):
            quantity = rng.randint(1, 9)
            made.append(SupplyLot(
                seller_id=firm["seller"].id, product_id=product.id,
                household_id=rng.choice(homes).id, quantity=quantity,
                remaining=rng.choice([0, quantity, rng.randint(0, quantity)]),
                unit_price_fen=100, purchased_on=date.today() - timedelta(days=rng.randint(0, 3)),
                below_guarantee=False, created_at=now_utc()))
        session.add_all(made)
        session.flush()
        ordered = sorted(made, key=lambda x: (x.purchased_on, x.id))
        before = {x.id: x.remaining for x in made}
        want = rng.randint(1, 30)
        expected = draw_fifo([Lot(x.id, x.household_id, x.remaining) for x in ordered
                              if x.remaining > 0], want)
        got = lots.draw(session, [(line_id, product.id, want)])[line_id]
        assert sorted(map(tuple_of, got)) == sorted(map(tuple_of, expected)), case
        session.expire_all()
        taken = {d.lot_id: d.quantity for d in expected}
        assert {x.id: session.get(SupplyLot, x.id).remaining for x in made} == {
            k: v - taken.get(k, 0) for k, v in before.items()}
    session.rollback()
