"""Stock means what the seller holds (issue 14, point 6), on SQLite and PostgreSQL.

The seller sets the units on hand; the units unpaid orders hold are counted against it
(products.stock are the free units, products.held the held ones, on hand = stock + held), so
a seller who sets 5 never sells 6, whatever the holds do afterwards: expire, get paid, get
cancelled, or are paid late and taken again."""
from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product
from marketplace.core.errors import DomainError, ValidationFailed
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import Order, OrderLine, OrderStatus
from marketplace.orders.services import AddressInput, InsufficientStock, LineInput
from marketplace.payments.capture import record_payment
from marketplace.payments.models import Payment, PaymentStatus
from marketplace.search.models import SearchOutbox
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.factories import DELIVERY, make_product, make_seller, make_user

ADDRESS = AddressInput(**DELIVERY)


def counts(session, product_id: int) -> tuple[int, int]:
    """(free, held) as the database has them."""
    row = session.execute(select(Product.stock, Product.held)
                          .where(Product.id == product_id)).one()
    return row.stock, row.held


def held_by_orders(session, product_id: int) -> int:
    """The units of the product on orders that wait for payment holding their stock."""
    return session.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id == product_id, Order.status == OrderStatus.pending_payment,
               Order.stock_held.is_(True)))


def outbox_rows(session, product_id: int) -> int:
    return session.scalar(select(func.count()).select_from(SearchOutbox).where(
        SearchOutbox.entity_id == product_id))


def set_stock(session, staff, product_id: int, on_hand: int) -> None:
    """What the console's form and PATCH stock do: the seller says how many units are on hand."""
    catalog.update_product(session, staff, session.get(Product, product_id),
                           catalog.ProductInput(stock=on_hand, provided={"stock"}))


def buy(session, buyer, product_id: int, quantity: int, key: str, now=None) -> Order:
    order, = services.checkout(session, buyer, [LineInput(product_id, quantity)], ADDRESS,
                               idempotency_key=key, now=now)
    return order


def pay(session, order, now=None, reference=None):
    return record_payment(session, order, provider="simulated",
                          reference=reference or f"sim-{order.id}", amount_fen=order.total_fen,
                          currency="CNY", now=now)


@pytest.fixture
def shelf(session):
    seller = make_seller(session, name="溆浦枣业合作社", region_code="431224")
    product = make_product(session, seller, name="红枣", price_fen=3800, stock=10,
                           origin_code="431224210201")
    staff = make_user(session, "seller_staff", seller=seller)
    buyers = [make_user(session, "buyer", login=f"1370000{i:04d}") for i in range(3)]
    session.commit()
    return {"product": product.id, "staff": staff, "buyers": buyers}


# ---- setting the units on hand --------------------------------------------------------------

def test_the_seller_sets_on_hand_and_the_held_units_count_against_it(session, shelf):
    pid = shelf["product"]
    buy(session, shelf["buyers"][0], pid, 3, "hold-00000001")
    session.commit()
    assert counts(session, pid) == (7, 3)
    told = outbox_rows(session, pid)
    set_stock(session, shelf["staff"], pid, 5)
    session.commit()
    product = session.get(Product, pid)
    assert (product.on_hand, product.held, product.stock) == (5, 3, 2)
    assert outbox_rows(session, pid) == told + 1  # the search index hears of the free units
    set_stock(session, shelf["staff"], pid, 3)  # exactly what is held: nothing free
    session.commit()
    assert counts(session, pid) == (0, 3)


def test_setting_fewer_than_are_held_is_refused_and_changes_nothing(session, shelf):
    pid = shelf["product"]
    buy(session, shelf["buyers"][0], pid, 4, "hold-00000002")
    session.commit()
    with pytest.raises(ValidationFailed) as err:
        set_stock(session, shelf["staff"], pid, 3)
    assert err.value.message == "有 4 件已被未付款订单或团购占用，库存不能少于此数"
    assert err.value.errors == {"stock": [err.value.message]}
    session.rollback()
    assert counts(session, pid) == (6, 4)


def test_on_hand_is_free_plus_held_whatever_the_holds_do(session, shelf):
    """Paid: the units leave (on hand goes down); cancelled or expired: they are free again;
    paid after expiry: taken again, then sold."""
    pid, buyers = shelf["product"], shelf["buyers"]
    start = now_utc()
    paid = buy(session, buyers[0], pid, 2, "hold-00000003", now=start)
    cancelled = buy(session, buyers[1], pid, 1, "hold-00000004", now=start)
    expired = buy(session, buyers[2], pid, 3, "hold-00000005", now=start)
    session.commit()
    assert counts(session, pid) == (4, 6)
    set_stock(session, shelf["staff"], pid, 8)  # the seller counts 8 on the shelf
    session.commit()
    assert counts(session, pid) == (2, 6)

    pay(session, paid)
    session.commit()
    assert counts(session, pid) == (2, 4)  # 6 on hand: 2 sold
    services.cancel(session, buyers[1], cancelled)
    session.commit()
    assert counts(session, pid) == (3, 3)
    assert services.expire(session, now=start + timedelta(minutes=31)) == 1
    session.commit()
    assert counts(session, pid) == (6, 0)
    pay(session, expired, now=start + timedelta(minutes=40))  # late: taken again and sold
    session.commit()
    assert expired.status == OrderStatus.paid
    assert counts(session, pid) == (3, 0)  # 8 - 2 - 3 on hand, none held
    assert held_by_orders(session, pid) == 0


def test_a_late_payment_for_units_sold_meanwhile_goes_back(session, shelf):
    pid, buyers = shelf["product"], shelf["buyers"]
    start = now_utc()
    late = buy(session, buyers[0], pid, 4, "hold-00000006", now=start)
    session.commit()
    set_stock(session, shelf["staff"], pid, 4)  # all that is on hand is held
    session.commit()
    assert counts(session, pid) == (0, 4)
    # the hold expires when the next buyer asks, who takes the 4 units
    buy(session, buyers[1], pid, 4, "hold-00000007", now=start + timedelta(minutes=45))
    session.commit()
    assert counts(session, pid) == (0, 4)
    outcome = pay(session, late, now=start + timedelta(minutes=50))
    session.commit()
    assert outcome.refunded and late.status == OrderStatus.cancelled
    assert counts(session, pid) == (0, 4)


# ---- the scenario, under concurrency ------------------------------------------------

@pytest.mark.parametrize("expiry", ["flask orders expire", "the checkouts"])
def test_a_seller_who_sets_5_sells_5_to_30_concurrent_buyers(app, session, shelf, expiry):
    """An unpaid order from 34 minutes before holds a unit when the seller types 5: when that
    hold expires (by the scheduled command, or by the checkouts that find the product short)
    its unit is one of the 5, not a sixth."""
    pid = shelf["product"]
    buy(session, shelf["buyers"][0], pid, 1, "hold-00000008",
        now=now_utc() - timedelta(minutes=34))
    session.commit()
    set_stock(session, shelf["staff"], pid, 5)
    session.commit()
    assert counts(session, pid) == (4, 1)
    if expiry == "flask orders expire":
        result = app.test_cli_runner().invoke(args=["orders", "expire"])
        assert result.exit_code == 0, result.output
        session.expire_all()
        assert counts(session, pid) == (5, 0)
    buyer_ids = [make_user(session, "buyer", login=f"1360000{i:04d}").id for i in range(30)]
    session.commit()  # and no more reads here until the threads are done

    def attempt(i: int) -> str:
        from marketplace.accounts.models import User
        services.checkout(db.session, db.session.get(User, buyer_ids[i]),
                          [LineInput(pid, 1)], ADDRESS, idempotency_key=f"thirty-{i:04d}")
        return "ok"

    results = run_at_once(app, 30, attempt, {InsufficientStock: "short"})
    assert not [r for r in results if r.startswith("error")], results
    assert (results.count("ok"), results.count("short")) == (5, 25)
    session.expire_all()
    assert counts(session, pid) == (0, 5) and held_by_orders(session, pid) == 5
    assert session.scalar(select(func.count()).select_from(Order).where(
        Order.status == OrderStatus.cancelled, Order.cancel_reason == "expired")) == 1


def test_orders_paid_and_expired_at_once_keep_on_hand_exact(app, session, shelf):
    """Holds paid and holds expired by concurrent requests: each unit is sold or given back
    once."""
    pid = shelf["product"]
    old = now_utc() - timedelta(minutes=40)
    orders = [buy(session, make_user(session, "buyer"), pid, 1, f"hold-1{i:07d}", now=old)
              for i in range(6)]
    session.commit()
    set_stock(session, shelf["staff"], pid, 6)
    ids, total = [o.id for o in orders], orders[0].total_fen
    session.commit()  # and no more reads here until the threads are done

    def act(i: int) -> str:
        if i % 2:
            services.expire(db.session)
            return "expired"
        outcome = record_payment(db.session, db.session.get(Order, ids[i // 2 % 6]),
                                 provider="simulated", reference=f"race-{i}",
                                 amount_fen=total, currency="CNY")
        return "refunded" if outcome.refunded else "paid"

    results = run_at_once(app, 12, act, {DomainError: "refused"})
    assert not [r for r in results if r.startswith("error")], results
    session.expire_all()
    sold = session.scalar(select(func.coalesce(func.sum(OrderLine.quantity), 0))
                          .join(Order, Order.id == OrderLine.order_id)
                          .where(OrderLine.product_id == pid, Order.status == OrderStatus.paid))
    free, held = counts(session, pid)
    assert held == held_by_orders(session, pid)
    assert free + held == 6 - sold and free >= 0 and held >= 0


def test_late_payments_at_once_take_an_expired_orders_units_once(app, session, shelf):
    """Four confirmations of different payments for one expired order arrive at once: the
    order takes its units again and is paid once; the others are refused (the provider asks
    again) or recorded to go back."""
    pid = shelf["product"]
    order = buy(session, shelf["buyers"][0], pid, 2, "hold-00000009",
                now=now_utc() - timedelta(minutes=40))
    session.commit()
    assert services.expire(session) == 1
    order_id, total = order.id, order.total_fen
    session.commit()  # and no more reads here until the threads are done

    def late(i: int) -> str:
        outcome = record_payment(db.session, db.session.get(Order, order_id),
                                 provider="simulated", reference=f"late-{i}",
                                 amount_fen=total, currency="CNY")
        return "refunded" if outcome.refunded else "paid"

    results = run_at_once(app, 4, late, {DomainError: "refused"})
    assert results.count("paid") == 1, results
    assert set(results) <= {"paid", "refused", "refunded"}, results
    session.expire_all()
    assert session.get(Order, order_id).status == OrderStatus.paid
    assert session.scalar(select(func.count()).select_from(Payment).where(
        Payment.status == PaymentStatus.succeeded)) == 1
    assert counts(session, pid) == (8, 0)  # 10 on hand, 2 sold once


# ---- a property: whatever happens, no more is sold than the seller set -----------------------

OPS = st.lists(st.one_of(
    st.tuples(st.just("set"), st.integers(0, 8)),
    st.tuples(st.just("buy"), st.integers(1, 4)),
    st.tuples(st.just("pay"), st.integers(0, 7)),
    st.tuples(st.just("cancel"), st.integers(0, 7)),
    st.tuples(st.just("wait"), st.integers(5, 40)),  # minutes pass; the expiry command runs
), min_size=1, max_size=14)


@settings(max_examples=30, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=OPS)
def test_sold_never_exceeds_what_the_seller_set(session, shelf, ops):
    people = [shelf["staff"].id] + [b.id for b in shelf["buyers"]]
    example = session.begin_nested()  # each example starts from the same shelf
    try:
        run_steps(session, shelf["product"], *[session.get(User, i) for i in people], ops=ops)
    finally:
        example.rollback()
        session.expunge_all()  # SQLite hands out the rolled-back ids again


def run_steps(session, pid, staff, *buyers, ops) -> None:
    clock = now_utc()
    last_set, sold_since = 10, 0  # the product starts with 10 on hand
    orders: list[tuple[Order, User]] = []
    for n, (op, arg) in enumerate(ops):
        step = session.begin_nested()  # a refused step is rolled back, as a request would be
        try:
            if op == "set":
                set_stock(session, staff, pid, arg)
                last_set, sold_since = arg, 0
            elif op == "buy":
                buyer = buyers[n % len(buyers)]
                orders.append((buy(session, buyer, pid, arg, f"prop-{n:08d}", now=clock),
                               buyer))
            elif op == "pay" and orders:
                order = orders[arg % len(orders)][0]
                outcome = pay(session, order, now=clock, reference=f"prop-pay-{n}")
                if not outcome.refunded and not outcome.duplicate:
                    sold_since += sum(line.quantity for line in order.lines)
            elif op == "cancel" and orders:
                order, buyer = orders[arg % len(orders)]
                services.cancel(session, buyer, order, now=clock)
            elif op == "wait":
                clock += timedelta(minutes=arg)
                services.expire(session, now=clock)
            session.flush()
            step.commit()
        except DomainError:
            step.rollback()
            session.expire_all()
        free, held = counts(session, pid)
        assert free >= 0 and held >= 0
        assert held == held_by_orders(session, pid), (n, op, arg)
        assert free + held == last_set - sold_since, (n, op, arg)
        assert sold_since <= last_set
