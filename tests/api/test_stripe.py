"""Stripe, offline: the real library against a local fake API; webhooks signed with the
library's own helper. On SQLite and PostgreSQL."""
from __future__ import annotations

import json
import time

import pytest
import stripe
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.models import Payment, PaymentEvent, PaymentStatus
from tests.api.conftest import assert_error
from tests.fixtures.factories import DELIVERY
from tests.fixtures.fake_stripe import WEBHOOK_SECRET

SECRET = WEBHOOK_SECRET
WEBHOOK = "/payments/stripe/webhook"
ADDRESS = DELIVERY


@pytest.fixture
def app(stripe_app):
    """The app with Stripe enabled, talking to the fake API."""
    return stripe_app


@pytest.fixture
def bought(api, make, buyer_headers):
    seller = make.seller(name="古楼茶叶合作社")
    product = make.product(seller, name="云雾茶", price_fen=4500, stock=3)
    resp = api.post("/api/v1/orders", {"lines": [{"product_id": product.id, "quantity": 2}],
                                       "address": ADDRESS, "idempotency_key": "stripe-key-01"},
                    headers=buyer_headers)
    order = resp.get_json()["orders"][0]
    return {"order": order, "product": product, "seller": seller}


def signed(client, event: dict, *, secret: str = SECRET, timestamp: int | None = None):
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=timestamp or int(time.time()))
    return client.post(WEBHOOK, data=payload, headers={"Stripe-Signature": header,
                                                       "Content-Type": "application/json"})


def completed(order: dict, *, event_id="evt_1", amount=None, currency="cny", intent="pi_1"):
    return {"id": event_id, "object": "event", "type": "checkout.session.completed",
            "data": {"object": {
                "id": "cs_test_1", "object": "checkout.session", "payment_status": "paid",
                "amount_total": order["total"]["amount"] if amount is None else amount,
                "currency": currency, "payment_intent": intent,
                "metadata": {"order_id": str(order["id"])}}}}


def status(app, order_id):
    with app.app_context():
        return db.session.get(Order, order_id).status


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_paying_with_stripe_starts_a_checkout_session(api, bought, buyer_headers, fake_stripe):
    order = bought["order"]
    resp = api.post(f"/api/v1/orders/{order['id']}/payments", {"provider": "stripe"},
                    headers=buyer_headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["redirect_url"].startswith("https://checkout.stripe.test/")
    assert body["test_mode"] is True and body["order"]["status"] == "pending_payment"
    (call,) = fake_stripe.calls("/v1/checkout/sessions")
    assert call["form"]["line_items[0][price_data][unit_amount]"] == "9000"
    assert call["form"]["line_items[0][price_data][currency]"] == "cny"
    assert call["form"]["metadata[order_id]"] == str(order["id"])
    assert call["key"] and call["auth"] == "Bearer sk_test_fake"


def test_a_signed_event_pays_once_however_often_it_comes(api, app, bought):
    order = bought["order"]
    for _ in range(5):
        resp = signed(api.client, completed(order))
        assert resp.status_code == 200, resp.get_data(as_text=True)
    assert status(app, order["id"]) == OrderStatus.paid
    assert count(app, Payment) == 1 and count(app, PaymentEvent) == 1
    assert resp.get_json()["outcome"] == "duplicate"
    # Stripe sending the same payment again under a new event id: still one payment
    assert signed(api.client, completed(order, event_id="evt_2")).get_json()["outcome"] == \
        "duplicate_payment"
    # an out-of-order expiry after the payment changes nothing
    expired = {"id": "evt_3", "type": "checkout.session.expired",
               "data": {"object": {"id": "cs_test_1", "metadata": {"order_id": str(order["id"])}}}}
    assert signed(api.client, expired).get_json()["outcome"] == "ignored"
    assert status(app, order["id"]) == OrderStatus.paid and count(app, Payment) == 1


def test_duplicate_webhooks_post_households_income_exactly_once(api, app, make, buyer_headers):
    """The same signed event delivered 5 times in a row, then 6 times at once, then once more
    under a new event id: one payment and each member's part of the line posted once."""
    import threading

    from marketplace.ledger import chain as ledger
    from marketplace.ledger.models import LedgerEntry
    homes = [make.household(n=930 + i) for i in range(3)]
    coop = make.seller(name="雪峰茶叶合作社", members=[])

    def members(session):
        from marketplace.sellers.models import CooperativeMember, Seller
        session.get(Seller, coop.id).household_share_bp = 3000
        for weight, home in enumerate(homes, start=1):
            session.add(CooperativeMember(seller_id=coop.id, household_id=home.id,
                                          weight=weight))
    make(members)
    product = make.product(coop, name="雪峰毛尖", price_fen=3333, stock=10)
    order = api.post("/api/v1/orders", {"lines": [{"product_id": product.id, "quantity": 3}],
                                        "address": ADDRESS, "idempotency_key": "stripe-ledger"},
                     headers=buyer_headers).get_json()["orders"][0]
    event = completed(order, event_id="evt_ledger")
    for _ in range(5):
        assert signed(api.client, event).status_code == 200
    start, codes = threading.Barrier(6), []

    def deliver():
        with app.test_client() as client:
            start.wait()
            codes.append(signed(client, event).status_code)
    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert codes == [200] * 6
    assert signed(api.client, completed(order, event_id="evt_ledger_2")).status_code == 200
    assert count(app, Payment) == 1
    with app.app_context():
        parts = db.session.execute(select(LedgerEntry.household_id, LedgerEntry.amount_fen)
                                   .order_by(LedgerEntry.household_id)).all()
        assert len(parts) == 3 and sum(a for _h, a in parts) == 9999 * 3000 // 10000
        assert [a for _h, a in parts] == [500, 1000, 1499]  # weights 1:2:3, exact
        assert ledger.verify(db.session).ok


@pytest.mark.parametrize("kind", ["wrong secret", "stale", "tampered", "missing"])
def test_bad_signatures_are_400_and_change_nothing(api, app, bought, kind):
    order = bought["order"]
    if kind == "wrong secret":
        resp = signed(api.client, completed(order), secret="whsec_other")
    elif kind == "stale":
        resp = signed(api.client, completed(order), timestamp=int(time.time()) - 3600)
    elif kind == "tampered":
        payload = json.dumps(completed(order))
        header = stripe.WebhookSignature.generate_signature_header(payload, SECRET)
        resp = api.client.post(WEBHOOK, data=payload.replace("9000", "9001"),
                               headers={"Stripe-Signature": header})
    else:
        resp = api.client.post(WEBHOOK, data=json.dumps(completed(order)))
    assert_error(resp, 400, "bad_signature")
    assert status(app, order["id"]) == OrderStatus.pending_payment
    assert count(app, Payment) == 0 and count(app, PaymentEvent) == 0


def test_a_payment_for_another_amount_is_refused_and_sent_back(api, app, bought, fake_stripe):
    order = bought["order"]
    resp = signed(api.client, completed(order, amount=100, intent="pi_short"))
    assert resp.get_json() == {"received": True, "outcome": "amount_mismatch",
                               "refund": "refunded"}
    assert status(app, order["id"]) == OrderStatus.pending_payment
    (call,) = fake_stripe.calls("/v1/refunds")
    assert call["form"] == {"payment_intent": "pi_short", "amount": "100"}
    other_currency = signed(api.client, completed(order, event_id="evt_9", currency="usd",
                                                  intent="pi_usd"))
    assert other_currency.get_json()["outcome"] == "amount_mismatch"
    assert status(app, order["id"]) == OrderStatus.pending_payment


def test_a_late_payment_without_stock_is_refunded_automatically(api, app, make, bought,
                                                                 fake_stripe):
    order = bought["order"]
    with app.app_context():  # the window passed, and someone else bought the rest
        row = db.session.get(Order, order["id"])
        from datetime import timedelta

        from marketplace.core.time import now_utc
        from marketplace.orders import services
        row.reserved_until = now_utc() - timedelta(minutes=5)
        services.expire(db.session)
        product = db.session.get(type(bought["product"]), bought["product"].id)
        product.stock = 0
        db.session.commit()
    resp = signed(api.client, completed(order, intent="pi_late"))
    assert resp.get_json() == {"received": True, "outcome": "sold_out", "refund": "refunded"}
    assert status(app, order["id"]) == OrderStatus.cancelled
    (call,) = fake_stripe.calls("/v1/refunds")
    assert call["form"] == {"payment_intent": "pi_late", "amount": "9000"}
    assert count(app, Payment, Payment.status == PaymentStatus.refunded) == 1
    page_events = api.get(f"/api/v1/orders/{order['id']}",
                          headers=api.auth(api.make.user("buyer").email))
    assert page_events.status_code == 404  # and only its buyer sees it


def test_seller_refund_goes_through_stripe(api, app, bought, fake_stripe):
    order = bought["order"]
    signed(api.client, completed(order, intent="pi_paid"))
    staff = api.staff_headers(bought["seller"])[1]
    path = f"/api/v1/orders/{order['id']}/refunds"
    fake_stripe.failures = 3  # the provider is down (the library retries twice)
    assert_error(api.post(path, {}, headers=staff), 502, "provider_unavailable")
    with app.app_context():
        assert db.session.get(Order, order["id"]).refunded_fen == 0  # nothing recorded
    resp = api.post(path, {"amount": {"amount": 2000, "currency": "CNY"}}, headers=staff)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    calls = fake_stripe.calls("/v1/refunds")
    assert calls[-1]["form"] == {"payment_intent": "pi_paid", "amount": "2000"}
    assert resp.get_json()["order"]["refunded"]["amount"] == 2000


def test_the_pay_page_offers_stripe_and_redirects(client, app, make, fake_stripe):
    seller = make.seller(name="古楼茶叶合作社")
    product = make.product(seller, name="云雾茶", price_fen=4500, stock=3)
    buyer = make.user("buyer")
    client.login(buyer.email)
    client.post_form("/cart/add", {"product_id": product.id, "quantity": 1})
    page = client.get("/checkout").get_data(as_text=True)
    import re
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)
    client.post_form("/checkout", {**ADDRESS, "idempotency_key": key})
    with app.app_context():
        order_id = db.session.scalar(select(Order.id))
    assert "银行卡支付（Stripe）" in client.get(f"/orders/{order_id}/pay").get_data(as_text=True)
    resp = client.post_form(f"/orders/{order_id}/pay/stripe")
    assert resp.status_code == 303
    assert resp.headers["Location"].startswith("https://checkout.stripe.test/")
    fake_stripe.failures = 3
    resp = client.post_form(f"/orders/{order_id}/pay/stripe")
    assert resp.status_code == 302  # back to the order with a message, nothing lost
    assert status(app, order_id) == OrderStatus.pending_payment


def test_a_signed_event_naming_an_impossible_order_is_no_500(api, app, bought):
    for order_id in ("9223372036854775808", "99999999999999999999", "-1", "x"):
        event = completed(bought["order"], event_id=f"evt_{order_id}", intent=f"pi_{order_id}")
        event["data"]["object"]["metadata"]["order_id"] = order_id
        resp = signed(api.client, event)
        assert resp.status_code == 200 and resp.get_json()["outcome"] == "unknown_order"


def test_an_unexpected_webhook_failure_answers_json(api, app, bought, monkeypatch):
    from marketplace.payments import webhooks

    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(webhooks, "handle_stripe_event", broken)
    app.config["PROPAGATE_EXCEPTIONS_IN_TESTS"] = False
    resp = signed(api.client, completed(bought["order"]))
    assert resp.status_code == 500 and resp.mimetype == "application/json"
    assert resp.get_json()["error"]["code"] == "internal_error"
