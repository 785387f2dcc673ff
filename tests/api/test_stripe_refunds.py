"""Every captured payment is either its order's one payment or paid back exactly once (issue 14):
signed Stripe events (a second payment of a paid order, a wrong amount, a cancelled order)
delivered in a row, at once and in any order, with Stripe down and then up again (a redelivery,
`flask payments retry-refunds`). Refunds are counted at the fake Stripe (`created`: what it
really made, each object once however often its idempotency key came back). On SQLite and
PostgreSQL."""
from __future__ import annotations

import itertools
import threading
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.extensions import db
from marketplace.ledger import chain
from marketplace.notifications.models import Notification
from marketplace.orders import services
from marketplace.orders.models import Order, OrderEvent, OrderStatus
from marketplace.payments.models import Payment, PaymentStatus
from tests.api.conftest import assert_error
from tests.api.test_stripe import ADDRESS, completed, signed

TURNED_AWAY = "订单 %(n)s 收到的一笔付款 %(a)s 不能入账（%(why)s），将原路退回"
REFUNDED = "订单 %(n)s 收到的付款 %(a)s 已原路退回"
CASES = ["second_payment", "wrong_amount", "cancelled"]
REASONS = {"second_payment": "already_paid", "wrong_amount": "amount_mismatch",
           "cancelled": "cancelled"}


@pytest.fixture
def app(stripe_app):
    """The app with Stripe enabled, talking to the fake API."""
    return stripe_app


class Shop:
    """One seller with staff, one product with plenty of stock, one buyer; orders on demand."""

    def __init__(self, api):
        self.api = api
        self.seller = api.make.seller(name="古楼茶叶合作社")
        api.make.staff(self.seller)
        self.product = api.make.product(self.seller, name="云雾茶", price_fen=4500, stock=500)
        self.buyer, self.headers = api.user_headers(Role.buyer)
        self._keys = itertools.count(1)

    def order(self) -> dict:
        resp = self.api.post("/api/v1/orders", {
            "lines": [{"product_id": self.product.id, "quantity": 2}], "address": ADDRESS,
            "idempotency_key": f"refund-key-{next(self._keys):04d}"}, headers=self.headers)
        assert resp.status_code == 201, resp.get_data(as_text=True)
        return resp.get_json()["orders"][0]

    def cancel(self, order: dict) -> None:
        with self.api.app.app_context():
            row = db.session.get(Order, order["id"])
            if row.status == OrderStatus.pending_payment:
                services.cancel(db.session, db.session.get(User, self.buyer.id), row)
            db.session.commit()


@pytest.fixture
def shop(api):
    return Shop(api)


def bad_capture(api, shop, case: str, tag: str) -> tuple[dict, dict]:
    """An order and a signed-to-be event whose capture the order cannot take (`case`)."""
    order = shop.order()
    intent = f"pi_bad_{tag}"
    if case == "second_payment":
        first = signed(api.client, completed(order, event_id=f"evt_first_{tag}",
                                             intent=f"pi_first_{tag}"))
        assert first.get_json()["outcome"] == "paid"
        return order, completed(order, event_id=f"evt_bad_{tag}", intent=intent)
    if case == "wrong_amount":
        return order, completed(order, event_id=f"evt_bad_{tag}", intent=intent, amount=100)
    shop.cancel(order)
    return order, completed(order, event_id=f"evt_bad_{tag}", intent=intent)


def again(event: dict, n: int) -> dict:
    """The same capture under another event id (Stripe may send one capture more than once)."""
    return {**event, "id": f"{event['id']}_again_{n}"}


def at_once(app, events: list[dict]) -> list[tuple[int, dict]]:
    """Deliver `events` from as many threads, released together: (status, body) of each."""
    start, answers = threading.Barrier(len(events)), []

    def deliver(event):
        with app.test_client() as client:
            start.wait()
            resp = signed(client, event)
            answers.append((resp.status_code, resp.get_json()))
    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(answers) == len(events)
    return answers


def retry_refunds(app):
    return app.test_cli_runner().invoke(args=["payments", "retry-refunds"])


def refunds_made(fake_stripe) -> Counter:
    """How many refunds Stripe made, by PaymentIntent."""
    return Counter(r["form"]["payment_intent"] for r in fake_stripe.created("/v1/refunds"))


def books(app, order_id: int) -> dict:
    """An order's payments as (reference, status, reason), its 'payment_refunded' events and
    the notices about money it could not take."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        rows = db.session.execute(select(Payment.reference, Payment.status, Payment.reason)
                                  .where(Payment.order_id == order_id)
                                  .order_by(Payment.reference)).all()
        refunded_events = db.session.scalar(select(func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == order_id, OrderEvent.kind == "payment_refunded"))
        notices = Counter(db.session.scalars(select(Notification.message_key).where(
            Notification.message_key.in_([TURNED_AWAY, REFUNDED]),
            Notification.message_values.contains(order.number))))
        return {"payments": [tuple(r) for r in rows], "status": order.status,
                "paid_fen": order.paid_fen, "refund_events": refunded_events,
                "notices": dict(notices)}


def ledger_is_clean(app) -> bool:
    with app.app_context():
        return chain.verify(db.session).ok


def expected_payments(case: str, tag: str) -> list[tuple]:
    due = [(f"pi_bad_{tag}", PaymentStatus.refunded, REASONS[case])]
    if case == "second_payment":
        return due + [(f"pi_first_{tag}", PaymentStatus.succeeded, "")]
    return due


@pytest.mark.parametrize("case", CASES)
def test_a_capture_the_order_cannot_take_goes_back_once_delivered_5_times_in_a_row(
        api, app, shop, fake_stripe, case):
    order, event = bad_capture(api, shop, case, "row")
    answers = [signed(api.client, event) for _ in range(5)]
    assert [r.status_code for r in answers] == [200] * 5
    assert answers[0].get_json() == {"received": True, "outcome": REASONS[case],
                                     "refund": "refunded"}
    assert {r.get_json()["outcome"] for r in answers[1:]} == {"duplicate"}
    for n in range(5):  # the same capture under new event ids: seen before, nothing more
        resp = signed(api.client, again(event, n))
        assert (resp.status_code, resp.get_json()["outcome"]) == (200, "duplicate_payment")
    assert refunds_made(fake_stripe) == Counter({"pi_bad_row": 1})
    (call,) = fake_stripe.calls("/v1/refunds")
    assert call["form"]["amount"] == str(event["data"]["object"]["amount_total"])
    assert call["key"] == "auto-refund-stripe-pi_bad_row"
    seen = books(app, order["id"])
    assert seen["payments"] == expected_payments(case, "row")
    assert seen["refund_events"] == 1
    assert seen["notices"] == {TURNED_AWAY: 2, REFUNDED: 1}  # buyer and staff; then the buyer
    if case == "second_payment":
        assert (seen["status"], seen["paid_fen"]) == (OrderStatus.paid, order["total"]["amount"])
    else:
        assert seen["paid_fen"] == 0
    assert ledger_is_clean(app)


@pytest.mark.parametrize("case", CASES)
def test_a_capture_the_order_cannot_take_goes_back_once_delivered_5_times_at_once(
        api, app, shop, fake_stripe, case):
    order, event = bad_capture(api, shop, case, "once")
    # the same event three times and the same capture under two other event ids, all at once
    answers = at_once(app, [event, event, event, again(event, 1), again(event, 2)])
    assert [status for status, _body in answers] == [200] * 5, answers
    outcomes = Counter(body["outcome"] for _status, body in answers)
    assert outcomes[REASONS[case]] == 1, answers
    assert set(outcomes) <= {REASONS[case], "duplicate", "duplicate_payment"}
    assert refunds_made(fake_stripe) == Counter({"pi_bad_once": 1})
    assert len(fake_stripe.calls("/v1/refunds")) == 1  # one request: the claim, not the key
    seen = books(app, order["id"])
    assert seen["payments"] == expected_payments(case, "once")
    assert seen["refund_events"] == 1 and seen["notices"] == {TURNED_AWAY: 2, REFUNDED: 1}
    assert ledger_is_clean(app)


def test_second_payments_at_once_for_a_waiting_order_pay_it_once(api, app, shop, fake_stripe):
    """Five different captures of the full amount race for one unpaid order: one pays it, the
    four others go back, each once."""
    order = shop.order()
    events = [completed(order, event_id=f"evt_race_{i}", intent=f"pi_race_{i}")
              for i in range(5)]
    answers = at_once(app, events + events)  # and each delivered twice
    assert [status for status, _body in answers] == [200] * 10, answers
    outcomes = Counter(body["outcome"] for _status, body in answers)
    assert outcomes["paid"] == 1 and outcomes["already_paid"] == 4, answers
    seen = books(app, order["id"])
    paid = [ref for ref, status, _reason in seen["payments"] if status == PaymentStatus.succeeded]
    assert len(paid) == 1 and len(seen["payments"]) == 5
    assert refunds_made(fake_stripe) == Counter({f"pi_race_{i}": 1 for i in range(5)
                                                 if f"pi_race_{i}" != paid[0]})
    assert len(fake_stripe.calls("/v1/refunds")) == 4
    assert (seen["status"], seen["paid_fen"]) == (OrderStatus.paid, order["total"]["amount"])
    assert seen["refund_events"] == 4
    assert ledger_is_clean(app)


@pytest.mark.parametrize("case", CASES)
def test_stripe_down_the_refund_stays_due_then_redelivery_and_the_cli_pay_it_back(
        api, app, shop, fake_stripe, case):
    row_order, row_event = bad_capture(api, shop, case, "row")
    once_order, once_event = bad_capture(api, shop, case, "once")
    fake_stripe.failures = 3  # down: the library tries three times, then the webhook says 503
    resp = signed(api.client, row_event)
    error = assert_error(resp, 503, "provider_unavailable")
    assert error["details"] == {"received": True, "outcome": REASONS[case], "refund": "failed"}
    assert len(fake_stripe.calls("/v1/refunds")) == 3 and not refunds_made(fake_stripe)
    fake_stripe.failures, fake_stripe.retry = 10**6, False  # still down (and no retries now)
    for _ in range(4):  # Stripe delivers again: the event is known, the refund is tried again
        error = assert_error(signed(api.client, row_event), 503, "provider_unavailable")
        assert error["details"]["outcome"] == "duplicate"
    answers = at_once(app, [once_event] * 3 + [again(once_event, 1), again(once_event, 2)])
    assert {status for status, _body in answers} <= {200, 503}, answers
    assert 503 in {status for status, _body in answers}
    assert all(body["refund"] == "busy" for status, body in answers if status == 200)
    with app.app_context():
        due = db.session.execute(select(Payment.reference, Payment.status,
                                        Payment.refund_attempts, Payment.refund_error)
                                 .where(Payment.status != PaymentStatus.succeeded)
                                 .order_by(Payment.reference)).all()
    assert [(ref, status) for ref, status, _n, _err in due] == [
        ("pi_bad_once", PaymentStatus.refund_due), ("pi_bad_row", PaymentStatus.refund_due)]
    assert due[1][2] == 5 and "APIError" in due[1][3]  # five tries, the last error kept
    assert 1 <= due[0][2] <= 5
    result = retry_refunds(app)  # the cron while Stripe is still down
    assert result.exit_code == 1, result.output
    assert "待退回款项 2 笔：已原路退回 0 笔，支付服务不可用仍待退回 2 笔" in result.output
    assert not refunds_made(fake_stripe)
    assert books(app, row_order["id"])["notices"] == {TURNED_AWAY: 2}  # told once, not again

    fake_stripe.failures = 0  # up again
    resp = signed(api.client, row_event)  # Stripe's next delivery
    assert resp.status_code == 200 and resp.get_json() == {
        "received": True, "outcome": "duplicate", "refund": "refunded"}
    result = retry_refunds(app)  # the cron pays back the other
    assert result.exit_code == 0, result.output
    assert "待退回款项 1 笔：已原路退回 1 笔，支付服务不可用仍待退回 0 笔" in result.output
    for event in (row_event, once_event, again(once_event, 3)):  # later deliveries: nothing more
        resp = signed(api.client, event)
        assert resp.status_code == 200 and "refund" not in resp.get_json()
    result = retry_refunds(app)
    assert result.exit_code == 0 and "待退回款项 0 笔" in result.output
    assert refunds_made(fake_stripe) == Counter({"pi_bad_row": 1, "pi_bad_once": 1})
    for order, tag in ((row_order, "row"), (once_order, "once")):
        seen = books(app, order["id"])
        assert seen["payments"] == expected_payments(case, tag)
        assert seen["refund_events"] == 1 and seen["notices"] == {TURNED_AWAY: 2, REFUNDED: 1}
    assert ledger_is_clean(app)


def test_paying_with_stripe_unreachable_is_a_502(api, app, shop, fake_stripe):
    order = shop.order()
    fake_stripe.failures = 3
    resp = api.post(f"/api/v1/orders/{order['id']}/payments", {"provider": "stripe"},
                    headers=shop.headers)
    error = assert_error(resp, 502, "provider_unavailable")
    assert error["message"] == "暂时无法连接支付服务，请稍后再试"
    with app.app_context():
        assert db.session.get(Order, order["id"]).status == OrderStatus.pending_payment
    resp = api.post(f"/api/v1/orders/{order['id']}/payments", {"provider": "stripe"},
                    headers=shop.headers)  # up again
    assert resp.status_code == 200 and resp.get_json()["redirect_url"]


def test_a_simulated_payment_of_a_cancelled_order_goes_back_at_once(api, app, shop):
    order = shop.order()
    shop.cancel(order)
    resp = api.post(f"/api/v1/orders/{order['id']}/payments", {"provider": "simulated"},
                    headers=shop.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["payment"] == {"provider": "simulated", "status": "refunded",
                                          "reason": "cancelled",
                                          "amount": order["total"]}
    assert books(app, order["id"])["payments"] == [
        (f"sim-{order['id']}", PaymentStatus.refunded, "cancelled")]


# ---- any order of deliveries ----------------------------------------------------------------

STEPS = st.sampled_from(["pay", "pay_again", "pay_other", "wrong_amount", "cancel", "down",
                         "up", "cli"])


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(steps=st.lists(STEPS, min_size=1, max_size=10))
def test_any_order_of_deliveries_pays_once_and_gives_the_rest_back_once(
        api, app, shop, fake_stripe, steps):
    """Deliveries of a right payment (again under the same and a new event id), a second right
    payment, a wrong amount, a cancellation, Stripe going down and up and the cron, in any
    order; then Stripe up, every event delivered once more and the cron. Afterwards the order
    has at most one payment, every other capture was paid back exactly once, and nothing a
    delivery brought was lost."""
    order = shop.order()
    tag = order["id"]
    pay = completed(order, event_id=f"evt_p_{tag}", intent=f"pi_p_{tag}")
    events = {"pay": pay, "pay_again": again(pay, 1),
              "pay_other": completed(order, event_id=f"evt_q_{tag}", intent=f"pi_q_{tag}"),
              "wrong_amount": completed(order, event_id=f"evt_w_{tag}", intent=f"pi_w_{tag}",
                                        amount=4499)}
    fake_stripe.failures, fake_stripe.retry = 0, False
    delivered = set()
    for step in steps:
        if step in events:
            resp = signed(api.client, events[step])
            assert resp.status_code in (200, 503), resp.get_data(as_text=True)
            assert resp.mimetype == "application/json"
            delivered.add(events[step]["data"]["object"]["payment_intent"])
        elif step == "cancel":
            shop.cancel(order)
        elif step == "down":
            fake_stripe.failures = 10**6
        elif step == "up":
            fake_stripe.failures = 0
        else:
            assert retry_refunds(app).exit_code in (0, 1)
    fake_stripe.failures = 0
    for event in events.values():
        assert signed(api.client, event).status_code == 200
    assert retry_refunds(app).exit_code == 0
    delivered |= {e["data"]["object"]["payment_intent"] for e in events.values()}

    seen = books(app, order["id"])
    refs = {ref: (status, reason) for ref, status, reason in seen["payments"]}
    assert set(refs) == delivered  # every capture recorded, once (the unique key)
    paid = [ref for ref, (status, _r) in refs.items() if status == PaymentStatus.succeeded]
    assert len(paid) <= 1
    assert all(status == PaymentStatus.refunded for ref, (status, _r) in refs.items()
               if ref not in paid)
    made = refunds_made(fake_stripe)
    assert {ref: made[ref] for ref in refs} == {ref: 0 if ref in paid else 1 for ref in refs}
    assert refs[f"pi_w_{tag}"] == (PaymentStatus.refunded, "amount_mismatch")
    if paid:
        assert paid[0] in (f"pi_p_{tag}", f"pi_q_{tag}")
        assert (seen["status"], seen["paid_fen"]) == (OrderStatus.paid,
                                                      order["total"]["amount"])
    else:  # cancelled before any right payment came
        assert seen["status"] == OrderStatus.cancelled and seen["paid_fen"] == 0
    assert seen["refund_events"] == len(refs) - len(paid)
    assert ledger_is_clean(app)
