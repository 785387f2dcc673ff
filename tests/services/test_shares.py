"""The households' share shown before paying (ledger.shares) on SQLite and PostgreSQL: a paid
order's impact equals the estimate shown for products without lots, whatever the prices,
quantities, shares and member weights; lot-backed products are estimated from the lots held now;
a page of products costs one query."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.ledger import shares
from marketplace.ledger.impact import order_impact
from marketplace.ledger.models import SupplyLot
from marketplace.orders import services as orders
from marketplace.orders.models import OrderLine
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments.capture import record_payment
from marketplace.sellers.models import SellerKind, SellerStatus
from tests.fixtures.factories import (
    DELIVERY,
    make_cooperative,
    make_household,
    make_product,
    make_seller,
    make_user,
)


def pay(session, buyer, lines, key):
    """Checkout and pay (simulated) without committing: the paid orders."""
    made = orders.checkout(session, buyer, [LineInput(p.id, q) for p, q in lines],
                           AddressInput(**DELIVERY), idempotency_key=key)
    for order in made:
        record_payment(session, order, provider="simulated", reference=f"sim-{order.id}",
                       amount_fen=order.total_fen, currency="CNY")
    return made


def impact_of(session, made) -> int:
    return sum(order_impact(session, order).attributable_fen for order in made)


class Statements:
    def __init__(self):
        self.count = 0

    def __call__(self, *_args):
        self.count += 1


def counted(session, fn):
    counter = Statements()
    engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        result = fn()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return result, counter.count


SELLERS = st.one_of(
    st.tuples(st.just(SellerKind.household_shop), st.just((1,))),
    st.tuples(st.just(SellerKind.cooperative),
              st.lists(st.integers(1, 1_000_000), min_size=1, max_size=5).map(tuple)))
LINES = st.lists(st.tuples(st.integers(1, 9_999_999), st.integers(1, 999),
                           st.one_of(st.none(), st.integers(0, 10_000))),
                 min_size=1, max_size=4)


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(seller_spec=SELLERS, seller_bp=st.integers(0, 10_000), lines=LINES)
def test_a_paid_orders_impact_equals_the_estimate_shown(session, seller_spec, seller_bp, lines):
    """For products without lots: what the cart shows per line (shares.for_lines) is what
    post_sale credits the line and what the order's impact sums, for random prices, quantities,
    shares (the product's or its seller's) and member weights."""
    kind, weights = seller_spec
    example = session.begin_nested()  # each example starts from the same empty database
    try:
        households = [make_household(session, n=900 + i) for i in range(len(weights))]
        if kind == SellerKind.household_shop:
            seller = make_seller(session, kind=kind, household=households[0])
        else:
            seller = make_seller(session, members=list(zip(households, weights, strict=True)))
        seller.household_share_bp = seller_bp
        bought = []
        for i, (price, quantity, own_bp) in enumerate(lines):
            product = make_product(session, seller, name=f"商品{i}", price_fen=price,
                                   stock=quantity)
            product.household_share_bp = own_bp
            bought.append((product, quantity))
        session.flush()
        shown = shares.for_lines(session, bought)
        assert not any(s.estimated for s in shown.values())
        made = pay(session, make_user(session, "buyer"), bought, "share-example")
        posted = {line.product_id: line.attributable_fen
                  for line in session.scalars(select(OrderLine).where(
                      OrderLine.order_id.in_([o.id for o in made])))}
        assert posted == {pid: s.amount_fen for pid, s in shown.items()}
        assert impact_of(session, made) == shares.total(shown.values()).amount_fen
    finally:
        example.rollback()


def test_two_sellers_in_one_checkout(session):
    """The cart's total (two orders, one per seller) is what their impacts sum to."""
    household = make_household(session, n=950)
    shop = make_seller(session, kind=SellerKind.household_shop, household=household)
    shop.household_share_bp = 10000
    coop, _members = make_cooperative(session, first=951, weights=(3, 1), share_bp=3000)
    eggs = make_product(session, shop, name="土鸡蛋", price_fen=3600)
    tea = make_product(session, coop, name="云雾茶", price_fen=3900)
    lines = [(eggs, 2), (tea, 1)]
    shown = shares.for_lines(session, lines)
    assert (shown[eggs.id].share_bp, shown[eggs.id].amount_fen) == (10000, 7200)
    assert (shown[tea.id].share_bp, shown[tea.id].amount_fen) == (3000, 1170)
    made = pay(session, make_user(session, "buyer"), lines, "share-two-sellers")
    session.commit()
    assert len(made) == 2
    assert impact_of(session, made) == shares.total(shown.values()).amount_fen == 8370


def test_a_seller_with_nobody_to_give_to_shows_nothing_and_posts_nothing(session):
    coop = make_seller(session)  # a cooperative without member households
    coop.household_share_bp = 3000
    rice = make_product(session, coop, name="红米", price_fen=5000)
    shown = shares.for_products(session, [rice])[rice.id]
    assert (shown.share_bp, shown.amount_fen, shown.covered) == (3000, 0, 0)
    made = pay(session, make_user(session, "buyer"), [(rice, 1)], "share-nobody")
    session.commit()
    assert impact_of(session, made) == 0


@pytest.fixture
def firm(session):
    households = [make_household(session, n=960 + i) for i in range(2)]
    seller = make_seller(session, kind=SellerKind.enterprise)
    seller.household_share_bp = 2000
    oil = make_product(session, seller, name="山茶油", price_fen=10000, stock=100)
    session.commit()
    return {"seller": seller, "oil": oil, "households": households}


def test_a_lot_backed_product_is_estimated_from_the_lots_held_now(session, firm):
    oil = firm["oil"]
    none_yet = shares.for_products(session, [oil])[oil.id]
    assert none_yet.estimated and (none_yet.share_bp, none_yet.amount_fen) == (2000, 0)
    for household, quantity in zip(firm["households"], (2, 1), strict=True):
        session.add(SupplyLot(seller_id=firm["seller"].id, product_id=oil.id,
                              household_id=household.id, quantity=quantity, remaining=quantity,
                              unit_price_fen=2000, purchased_on=date.today(),
                              created_at=now_utc()))
    session.commit()
    assert shares.for_products(session, [oil])[oil.id].amount_fen == 2000  # one unit, covered
    five = shares.for_lines(session, [(oil, 5)])[oil.id]
    assert (five.covered, five.quantity) == (3, 5)
    assert five.amount_fen == 50000 * 2000 * 3 // (10000 * 5) == 6000
    made = pay(session, make_user(session, "buyer"), [(oil, 5)], "share-lots")
    session.commit()
    assert impact_of(session, made) == five.amount_fen  # nobody drew on the lots in between
    assert shares.for_products(session, [oil])[oil.id].amount_fen == 0  # the lots are used up


def test_a_page_of_products_costs_one_query(session, firm):
    coop, _members = make_cooperative(session, first=970)
    household = make_household(session, n=975)
    shop = make_seller(session, kind=SellerKind.household_shop, household=household)
    products = [make_product(session, seller, name=f"商品{i}")
                for i, seller in enumerate([coop, shop, firm["seller"]] * 8)]
    session.commit()
    products = session.scalars(select(Product).where(  # loaded, as a page of the catalogue
        Product.id.in_([p.id for p in products])).order_by(Product.id)).all()
    found, statements = counted(session, lambda: shares.for_products(session, products))
    assert len(found) == 24 and statements == 1
    _found, statements = counted(session, lambda: shares.for_products(session, products[:2]))
    assert statements == 1
    assert shares.for_products(session, []) == {}


def test_shares_by_seller_kind_count_only_what_shoppers_can_buy(session):
    coop, _members = make_cooperative(session, first=980, share_bp=3000)
    make_product(session, coop, name="茶一")
    make_product(session, coop, name="茶二").household_share_bp = 4500
    make_product(session, coop, name="草稿", status=ProductStatus.draft).household_share_bp = 1
    hidden = make_seller(session, kind=SellerKind.enterprise, status=SellerStatus.suspended)
    make_product(session, hidden, name="暂停")
    session.commit()
    kinds = shares.by_seller_kind(session)
    assert [(k.kind, k.products, k.lowest_bp, k.highest_bp) for k in kinds] == [
        (SellerKind.cooperative, 2, 3000, 4500)]
