"""Checkout, reservations, expiry, cancellation and payments on a real session, on SQLite and
PostgreSQL; 32 concurrent buyers against 10 units."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.catalog.models import Product
from marketplace.core.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.orders import reading, services
from marketplace.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
)
from marketplace.orders.services import AddressInput, InsufficientStock, LineInput
from marketplace.payments import payback
from marketplace.payments.capture import record_payment
from marketplace.payments.models import Payment, PaymentStatus
from marketplace.payments.providers import SimulatedProvider
from marketplace.search.models import SearchOutbox
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.factories import DELIVERY, make_product, make_seller, make_user

ADDRESS = AddressInput(**DELIVERY)


def stock(session, product_id: int) -> int:
    return session.scalar(select(Product.stock).where(Product.id == product_id))


@pytest.fixture
def shop(session):
    tea_house = make_seller(session, name="古楼茶叶合作社")
    tea_house.shipping_fee_fen, tea_house.free_shipping_from_fen = 1000, 9900
    dates = make_seller(session, name="溆浦枣业合作社", region_code="431224")
    products = {
        "tea": make_product(session, tea_house, name="云雾茶", price_fen=4500, stock=10),
        "black": make_product(session, tea_house, name="黑茶", price_fen=6000, stock=3),
        "zao": make_product(session, dates, name="红枣", price_fen=3800, stock=5,
                            origin_code="431224210201"),
    }
    buyer = make_user(session, "buyer", login="13700000001")
    other = make_user(session, "buyer", login="13700000002")
    session.commit()
    return {"buyer": buyer, "other": other, **{k: v.id for k, v in products.items()}}


def buy(session, user, key="key-00000001", **quantities_by_id):
    lines = [LineInput(int(pid), q) for pid, q in quantities_by_id.items()]
    orders = services.checkout(session, user, lines, ADDRESS, idempotency_key=key)
    session.commit()
    return orders


def test_one_order_per_seller_with_its_shipping_rule(session, shop):
    orders = buy(session, shop["buyer"], **{str(shop["tea"]): 1, str(shop["zao"]): 2})
    assert len(orders) == 2
    tea, zao = sorted(orders, key=lambda o: o.seller.name != "古楼茶叶合作社")
    assert (tea.goods_fen, tea.shipping_fen, tea.total_fen) == (4500, 1000, 5500)
    assert (zao.goods_fen, zao.shipping_fen, zao.total_fen) == (7600, 0, 7600)
    assert {o.status for o in orders} == {OrderStatus.pending_payment}
    assert len({o.number for o in orders}) == 2 and all(len(o.number) >= 16 for o in orders)
    assert stock(session, shop["tea"]) == 9 and stock(session, shop["zao"]) == 3
    assert tea.reserved_until > now_utc() + timedelta(minutes=29)
    assert tea.region_names.startswith("湖南省") and tea.mobile == "13912345678"
    # free shipping from 99 yuan on: 3 x 45 = 135
    more = buy(session, shop["buyer"], key="key-00000002", **{str(shop["tea"]): 3})
    assert more[0].shipping_fen == 0
    # the search index hears about the stock change
    assert session.scalar(select(func.count()).select_from(SearchOutbox)
                          .where(SearchOutbox.entity_id == shop["tea"])) >= 1


def test_the_same_key_answers_the_same_orders(session, shop):
    first = buy(session, shop["buyer"], **{str(shop["tea"]): 2})
    again = buy(session, shop["buyer"], **{str(shop["tea"]): 2})
    assert [o.id for o in again] == [o.id for o in first]
    assert stock(session, shop["tea"]) == 8
    assert session.scalar(select(func.count()).select_from(Order)) == 1
    with pytest.raises(Conflict) as err:  # same key, different request
        buy(session, shop["buyer"], **{str(shop["tea"]): 3})
    assert err.value.code == "idempotency_key_reused"
    session.rollback()
    # another buyer may use the same key for their own checkout
    assert buy(session, shop["other"], **{str(shop["tea"]): 1})[0].buyer_id == shop["other"].id


def test_insufficient_stock_names_every_short_line_and_writes_nothing(session, shop):
    with pytest.raises(InsufficientStock) as err:
        buy(session, shop["buyer"], **{str(shop["tea"]): 2, str(shop["black"]): 4,
                                       str(shop["zao"]): 6})
    session.rollback()
    assert err.value.status == 409
    short = {line["product_id"]: line for line in err.value.details["lines"]}
    assert set(short) == {shop["black"], shop["zao"]}
    assert short[shop["black"]]["available"] == 3 and short[shop["zao"]]["requested"] == 6
    assert "黑茶" in err.value.message and "红枣" in err.value.message
    assert stock(session, shop["tea"]) == 10  # the line that fitted was not kept either
    assert session.scalar(select(func.count()).select_from(Order)) == 0


@pytest.mark.parametrize("change, field", [
    ({"recipient": ""}, "recipient"), ({"mobile": "12345"}, "mobile"),
    ({"region_code": "43"}, "region_code"), ({"region_code": "999999"}, "region_code"),
    ({"detail": "x"}, "detail"),
])
def test_bad_addresses_are_refused_by_field(session, shop, change, field):
    address = AddressInput(**{**ADDRESS.__dict__, **change})
    with pytest.raises(ValidationFailed) as err:
        services.checkout(session, shop["buyer"], [LineInput(shop["tea"], 1)], address,
                          idempotency_key="key-00000001")
    assert field in err.value.errors


@pytest.mark.parametrize("lines, key", [
    ([], "key-00000001"), ([LineInput(1, 0)], "key-00000001"), ([LineInput(1, -2)], "key-1"),
    ([LineInput(1, 1000)], "key-00000001"), ([LineInput(1, 1)], "short"),
])
def test_bad_lines_and_keys_are_refused(session, shop, lines, key):
    with pytest.raises(ValidationFailed):
        services.checkout(session, shop["buyer"], lines, ADDRESS, idempotency_key=key)


def test_delisted_or_unknown_products_cannot_be_bought(session, shop):
    product = session.get(Product, shop["black"])
    product.status = "delisted"
    session.commit()
    with pytest.raises(ValidationFailed) as err:
        buy(session, shop["buyer"], **{str(shop["black"]): 1, "999999": 1})
    assert set(err.value.details["product_ids"]) == {shop["black"], 999999}


def test_expiry_gives_the_units_back(session, app, shop):
    order = buy(session, shop["buyer"], **{str(shop["black"]): 3})[0]
    assert stock(session, shop["black"]) == 0
    assert services.expire(session, now=now_utc()) == 0  # still inside the window
    assert services.expire(session, now=now_utc() + timedelta(minutes=31)) == 1
    session.commit()
    session.refresh(order)
    assert (order.status, order.cancel_reason) == (OrderStatus.cancelled, "expired")
    assert stock(session, shop["black"]) == 3
    assert [e.kind for e in order.events] == ["created", "expired"]
    assert services.expire(session, now=now_utc() + timedelta(days=1)) == 0  # only once


def test_a_checkout_releases_expired_reservations_of_its_products_first(session, shop):
    buy(session, shop["buyer"], **{str(shop["black"]): 3})
    later = now_utc() + timedelta(minutes=45)
    orders = services.checkout(session, shop["other"], [LineInput(shop["black"], 2)], ADDRESS,
                               idempotency_key="key-00000009", now=later)
    session.commit()
    assert orders[0].status == OrderStatus.pending_payment
    assert stock(session, shop["black"]) == 1


def test_flask_orders_expire(app, session, shop):
    buy(session, shop["buyer"], **{str(shop["black"]): 2})
    order = session.scalar(select(Order))
    order.reserved_until = now_utc() - timedelta(minutes=1)
    session.commit()
    result = app.test_cli_runner().invoke(args=["orders", "expire"])
    assert result.exit_code == 0, result.output
    assert "1" in result.output
    session.expire_all()
    assert stock(session, shop["black"]) == 3


def test_cancel_only_while_unpaid(session, shop):
    order = buy(session, shop["buyer"], **{str(shop["tea"]): 4})[0]
    services.cancel(session, shop["buyer"], order)
    session.commit()
    assert stock(session, shop["tea"]) == 10
    with pytest.raises(IllegalTransition):
        services.cancel(session, shop["buyer"], order)


def pay(session, order, reference="sim-1", **kw):
    args = {"provider": "simulated", "reference": reference, "amount_fen": order.total_fen,
            "currency": "CNY", **kw}
    outcome = record_payment(session, order, **args)
    session.commit()
    return outcome


def test_payment_is_recorded_once_and_checked(session, shop):
    order = buy(session, shop["buyer"], **{str(shop["tea"]): 1})[0]
    for reference, wrong in (("sim-short", {"amount_fen": order.total_fen - 1}),
                             ("sim-usd", {"currency": "USD"})):
        for _ in range(2):  # not the amount or currency due: recorded once, to go back
            outcome = pay(session, order, reference=reference, **wrong)
        assert outcome.refunded and outcome.duplicate
        assert (outcome.payment.status, outcome.payment.reason) == (
            PaymentStatus.refund_due, "amount_mismatch")
    assert order.status == OrderStatus.pending_payment
    for _ in range(5):  # the same confirmation delivered five times
        outcome = pay(session, order)
    assert outcome.duplicate and order.status == OrderStatus.paid
    assert order.paid_fen == order.total_fen and not order.stock_held
    assert session.scalar(select(func.count()).select_from(Payment)
                          .where(Payment.status == PaymentStatus.succeeded)) == 1
    assert [e.kind for e in order.events] == ["created", "paid"]
    second = pay(session, order, reference="sim-2")  # a second, different payment: goes back
    assert second.refunded and not second.duplicate
    assert (second.payment.status, second.payment.reason) == (PaymentStatus.refund_due,
                                                              "already_paid")
    assert pay(session, order, reference="sim-2").duplicate
    assert order.paid_fen == order.total_fen
    assert session.scalar(select(func.count()).select_from(Payment)) == 4
    assert services.expire(session, now=now_utc() + timedelta(days=1)) == 0
    assert stock(session, shop["tea"]) == 9  # sold, not given back


def test_a_late_payment_reserves_again_when_it_can(session, shop):
    order = buy(session, shop["buyer"], **{str(shop["black"]): 2})[0]
    outcome = pay(session, order, now=now_utc() + timedelta(hours=2))
    assert not outcome.refunded and order.status == OrderStatus.paid
    assert stock(session, shop["black"]) == 1
    assert [e.kind for e in order.events] == ["created", "expired", "reserved_again", "paid"]


def test_a_late_payment_is_refunded_when_the_units_are_gone(session, shop):
    order = buy(session, shop["buyer"], **{str(shop["black"]): 2})[0]
    later = now_utc() + timedelta(hours=1)
    services.checkout(session, shop["other"], [LineInput(shop["black"], 3)], ADDRESS,
                      idempotency_key="key-00000007", now=later)  # expires it, takes all 3
    session.commit()
    outcome = pay(session, order, now=later + timedelta(minutes=1))
    assert outcome.refunded and outcome.payment.status == PaymentStatus.refund_due
    assert outcome.payment.reason == "sold_out"
    assert order.status == OrderStatus.cancelled and order.paid_fen == 0
    assert stock(session, shop["black"]) == 0
    assert payback.settle(session, outcome.payment.id, {"simulated": SimulatedProvider()},
                          commit=session.commit) == payback.Settled.refunded
    payment = session.get(Payment, outcome.payment.id)
    assert payment.status == PaymentStatus.refunded and payment.refund_attempts == 1
    assert payment.refund_reference == "sim-refund-auto-refund-simulated-sim-1"
    assert session.scalar(select(OrderEvent.note).where(OrderEvent.kind == "payment_refunded"))


def test_another_users_order_is_not_found(session, shop):
    order = buy(session, shop["buyer"], **{str(shop["tea"]): 1})[0]
    assert reading.order_for(session, shop["buyer"], order.id) is order
    with pytest.raises(NotFound):
        reading.order_for(session, shop["other"], order.id)
    with pytest.raises(NotFound):
        reading.order_for(session, shop["buyer"], 987654)


def test_32_concurrent_buyers_never_oversell_10_units(app, session, shop):
    product_id = shop["zao"]
    product = session.get(Product, product_id)
    product.stock = 10
    buyers = [make_user(session, "buyer", login=f"1360000{i:04d}") for i in range(32)]
    buyer_ids = [b.id for b in buyers]
    session.commit()  # and no more reads here until the threads are done: no open transaction

    def attempt(i: int) -> str:
        from marketplace.accounts.models import User
        services.checkout(db.session, db.session.get(User, buyer_ids[i]),
                          [LineInput(product_id, 1)], ADDRESS,
                          idempotency_key=f"concurrent-{buyer_ids[i]}")
        return "ok"

    results = run_at_once(app, len(buyer_ids), attempt, {InsufficientStock: "short"})
    assert len(results) == 32 and not [r for r in results if r.startswith("error")], results
    assert results.count("ok") == 10 and results.count("short") == 22
    session.expire_all()
    sold = session.scalar(select(func.coalesce(func.sum(Order.goods_fen), 0))
                          .where(Order.status == OrderStatus.pending_payment)) // 3800
    assert sold == 10
    assert stock(session, product_id) == 0


def test_a_bank_transfer_waits_longer_then_times_out(session, shop):
    from marketplace.payments import transfers
    order = buy(session, shop["buyer"], **{str(shop["black"]): 1})[0]
    with pytest.raises(NotFound):
        transfers.choose(session, shop["other"], order)
    transfers.choose(session, shop["buyer"], order)
    session.commit()
    assert services.expire(session, now=now_utc() + timedelta(days=2)) == 0
    with pytest.raises(RuleBroken):  # no voucher yet
        transfers.confirm(session, make_user(session, "platform_admin"), order)
    assert services.expire(session, now=now_utc() + timedelta(days=3, minutes=1)) == 1
    session.commit()
    assert order.status == OrderStatus.cancelled and stock(session, shop["black"]) == 3


def _pay_concurrently(app, session, shop, count: int, reference) -> tuple[list[str], int]:
    """`count` threads record a payment for one order at once, thread i with reference(i)."""
    order = buy(session, shop["buyer"], **{str(shop["tea"]): 1})[0]
    order_id, total = order.id, order.total_fen
    session.commit()

    def pay_once(i: int) -> str:
        outcome = record_payment(db.session, db.session.get(Order, order_id),
                                          provider="stripe", reference=reference(i),
                                          amount_fen=total, currency="CNY")
        if outcome.duplicate:
            return "duplicate"
        return outcome.payment.reason if outcome.refunded else "paid"

    results = run_at_once(app, count, pay_once, {IllegalTransition: "illegal"})
    session.expire_all()
    return results, order_id


def test_one_confirmation_delivered_8_times_at_once_records_one_payment(app, session, shop):
    results, order_id = _pay_concurrently(app, session, shop, 8, lambda i: "cs_same")
    assert sorted(results) == ["duplicate"] * 7 + ["paid"], results
    assert session.scalar(select(func.count()).select_from(Payment)) == 1
    assert [e.kind for e in session.get(Order, order_id).events] == ["created", "paid"]


def test_two_different_payments_at_once_pay_the_order_once(app, session, shop):
    """The others are recorded to go back, whichever came first (none is lost)."""
    results, order_id = _pay_concurrently(app, session, shop, 4, lambda i: f"cs_{i}")
    assert sorted(results) == ["already_paid"] * 3 + ["paid"], results
    statuses = session.execute(select(Payment.status, Payment.reason).order_by(Payment.status))
    assert sorted(statuses) == [(PaymentStatus.refund_due, "already_paid")] * 3 + [
        (PaymentStatus.succeeded, "")]
    order = session.get(Order, order_id)
    assert order.paid_fen == order.total_fen


def test_checkout_and_payment_write_only_their_own_columns(session, shop):
    """The hot paths write with Core statements: nothing else of the product or the order may
    change (a parameter named like a column would add it to an UPDATE's SET)."""
    product = session.get(Product, shop["tea"])
    created, name = product.created_at, product.name
    order = buy(session, shop["buyer"], **{str(shop["tea"]): 2})[0]
    order_created = order.created_at
    outcome = record_payment(session, order, provider="simulated", reference="sim-x",
                                      amount_fen=order.total_fen, currency="CNY",
                                      now=now_utc() + timedelta(minutes=5))
    session.commit()
    session.expire_all()
    product, order = session.get(Product, shop["tea"]), session.get(Order, order.id)
    assert (product.created_at, product.name, product.stock) == (created, name, 8)
    assert order.created_at == order_created and order.paid_at > order_created
    assert (order.status, order.paid_fen, order.stock_held, order.reserved_until) == (
        OrderStatus.paid, order.total_fen, False, None)
    assert outcome.payment.created_at == order.paid_at
    assert session.scalar(select(func.count()).select_from(SearchOutbox)
                          .where(SearchOutbox.entity_id == shop["tea"])) >= 1
    assert [e.kind for e in order.events] == ["created", "paid"]


def test_one_seller_several_lines_make_one_order(session, shop):
    order, = buy(session, shop["buyer"], **{str(shop["black"]): 2, str(shop["tea"]): 1})
    returned = {ln.id: (ln.product_id, ln.quantity) for ln in order.lines}
    session.expire_all()
    assert returned == {ln.id: (ln.product_id, ln.quantity)
                        for ln in session.scalars(select(OrderLine))}
    order = session.get(Order, order.id)
    assert sorted((ln.product_id, ln.quantity, ln.amount_fen) for ln in order.lines) == sorted(
        [(shop["black"], 2, 12000), (shop["tea"], 1, 4500)])
    assert (order.goods_fen, order.shipping_fen, order.total_fen) == (16500, 0, 16500)
    assert [e.kind for e in order.events] == ["created"]
    assert all(ln.order_id == order.id for ln in order.lines)
