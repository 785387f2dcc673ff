"""POST /api/v1/orders, GET /api/v1/orders/{id}, POST /api/v1/orders/{id}/payments."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.payments.models import Payment
from tests.api.conftest import assert_error
from tests.fixtures.factories import DELIVERY

URL = "/api/v1/orders"
ADDRESS = DELIVERY


def body(goods, key="api-key-0001", **quantities):
    lines = [{"product_id": goods[name], "quantity": q} for name, q in quantities.items()]
    return {"lines": lines, "address": ADDRESS, "idempotency_key": key}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def stock(app, product_id) -> int:
    with app.app_context():
        return db.session.scalar(select(Product.stock).where(Product.id == product_id))


def test_checkout_answers_one_order_per_seller(api, app, goods, buyer_headers):
    resp = api.post(URL, body(goods, tea=2, zao=1), headers=buyer_headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    orders = resp.get_json()["orders"]
    assert len(orders) == 2
    tea = next(o for o in orders if o["seller"]["name"] == "古楼茶叶合作社")
    assert tea["status"] == "pending_payment"
    assert tea["total"] == {"amount": 9000, "currency": "CNY"}
    assert tea["lines"] == [{"product_id": goods["tea"], "name": "云雾茶", "spec": "250g/罐",
                             "quantity": 2, "unit_price": {"amount": 4500, "currency": "CNY"},
                             "amount": {"amount": 9000, "currency": "CNY"}}]
    assert tea["reserved_until"] and tea["number"]
    assert stock(app, goods["tea"]) == 3
    # a retried call (double click, network retry) answers the same orders
    again = api.post(URL, body(goods, tea=2, zao=1), headers=buyer_headers)
    assert [o["id"] for o in again.get_json()["orders"]] == [o["id"] for o in orders]
    assert count(app, Order) == 2 and stock(app, goods["tea"]) == 3


def test_key_reused_for_another_request_is_a_conflict(api, goods, buyer_headers):
    api.post(URL, body(goods, tea=1), headers=buyer_headers)
    resp = api.post(URL, body(goods, tea=2), headers=buyer_headers)
    assert_error(resp, 409, "idempotency_key_reused")


def test_insufficient_stock_names_every_short_line(api, app, goods, buyer_headers):
    resp = api.post(URL, body(goods, tea=6, zao=3), headers=buyer_headers)
    error = assert_error(resp, 409, "insufficient_stock")
    assert {line["product_id"] for line in error["details"]["lines"]} == \
        {goods["tea"], goods["zao"]}
    assert count(app, Order) == 0 and stock(app, goods["tea"]) == 5


@pytest.mark.parametrize("payload, status", [
    ({"lines": "x", "address": ADDRESS, "idempotency_key": "api-key-0001"}, 400),
    ({"lines": [{"product_id": "1", "quantity": 1}], "address": ADDRESS,
      "idempotency_key": "api-key-0001"}, 400),
    ({"lines": [{"product_id": 1, "quantity": 1}], "address": {"recipient": 1},
      "idempotency_key": "api-key-0001"}, 400),
    ({"lines": [{"product_id": 1, "quantity": 1}], "address": ADDRESS}, 400),
    ({"lines": [{"product_id": 1, "quantity": 1}], "address": ADDRESS,
      "idempotency_key": "api-key-0001", "channel": "unit_purchase"}, 422),
    ({"lines": [{"product_id": 1, "quantity": 1}], "address": ADDRESS,
      "idempotency_key": "api-key-0001", "price": 1}, 400),
])
def test_bad_bodies_get_json_errors(api, app, buyer_headers, payload, status):
    assert_error(api.post(URL, payload, headers=buyer_headers), status)
    assert count(app, Order) == 0


def test_anonymous_is_401(api, goods):
    assert_error(api.post(URL, body(goods, tea=1)), 401)


def test_read_and_pay_own_order_only(api, app, goods, buyer_headers):
    order = api.post(URL, body(goods, tea=1), headers=buyer_headers).get_json()["orders"][0]
    path = f"{URL}/{order['id']}"
    assert api.get(path, headers=buyer_headers).get_json()["number"] == order["number"]
    stranger = api.user_headers(Role.buyer)[1]
    assert_error(api.get(path, headers=stranger), 404)
    assert_error(api.post(f"{path}/payments", {"provider": "simulated"}, headers=stranger), 404)
    # its seller's staff may read it, not pay it
    staff = api.staff_headers(goods["seller"])[1]
    assert api.get(path, headers=staff).status_code == 200
    assert_error(api.get(f"{URL}/999999", headers=buyer_headers), 404)

    for _ in range(3):  # paying again answers the paid order, one payment recorded
        resp = api.post(f"{path}/payments", {"provider": "simulated"}, headers=buyer_headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        paid = resp.get_json()
        assert paid["order"]["status"] == "paid" and paid["test_mode"] is True
        assert paid["order"]["paid"] == {"amount": 4500, "currency": "CNY"}
    assert count(app, Payment) == 1
    assert_error(api.post(f"{path}/payments", {"provider": "stripe"}, headers=buyer_headers),
                 422, "provider_unavailable")


def test_seller_refunds_part_then_the_rest(api, app, goods, buyer_headers):
    order = api.post(URL, body(goods, tea=2), headers=buyer_headers).get_json()["orders"][0]
    path = f"{URL}/{order['id']}"
    staff = api.staff_headers(goods["seller"])[1]
    # not paid yet: nothing to refund
    assert_error(api.post(f"{path}/refunds", {}, headers=staff), 409, "illegal_transition")
    api.post(f"{path}/payments", {"provider": "simulated"}, headers=buyer_headers)
    # the buyer may not refund through this route; another seller's staff sees nothing
    assert_error(api.post(f"{path}/refunds", {}, headers=buyer_headers), 403)
    with app.app_context():
        from tests.fixtures.factories import make_seller
        other_seller = make_seller(db.session, name="别家合作社")
        db.session.commit()
        db.session.refresh(other_seller)
        db.session.expunge(other_seller)
    assert_error(api.post(f"{path}/refunds", {}, headers=api.staff_headers(other_seller)[1]),
                 404)
    assert_error(api.post(f"{path}/refunds", {"amount": 100}, headers=staff), 400)
    part = api.post(f"{path}/refunds", {"amount": {"amount": 1000, "currency": "CNY"},
                                        "reason": "少发一件"}, headers=staff)
    assert part.status_code == 201, part.get_data(as_text=True)
    assert part.get_json()["order"]["refunded"] == {"amount": 1000, "currency": "CNY"}
    too_much = api.post(f"{path}/refunds", {"amount": {"amount": 9000, "currency": "CNY"}},
                        headers=staff)
    assert assert_error(too_much, 422, "refund_exceeds_paid")["details"]["refundable"] == 8000
    rest = api.post(f"{path}/refunds", {}, headers=staff).get_json()
    assert rest["refund"]["amount"] == {"amount": 8000, "currency": "CNY"}
    assert rest["order"]["status"] == "cancelled"


def test_impact_names_the_households_reached_for_the_buyer_only(api, app, make, buyer_headers):
    from tests.fixtures.factories import make_household, make_product, make_seller

    def coop(session):
        households = [make_household(session, n=880 + i, name=name)
                      for i, name in enumerate(("王建国", "李秀英"))]
        seller = make_seller(session, members=[(households[0], 1), (households[1], 3)])
        seller.household_share_bp = 5000
        return make_product(session, seller, name="合作社红茶", price_fen=2000, stock=10).id

    product_id = make(coop)
    resp = api.post(URL, {"lines": [{"product_id": product_id, "quantity": 2}],
                          "address": ADDRESS, "idempotency_key": "api-impact-01"},
                    headers=buyer_headers)
    order_id = resp.get_json()["orders"][0]["id"]
    assert api.get(f"{URL}/{order_id}/impact", headers=buyer_headers).get_json()[
        "households"] == []  # nothing before payment
    api.post(f"{URL}/{order_id}/payments", {"provider": "simulated"}, headers=buyer_headers)
    body = api.get(f"{URL}/{order_id}/impact", headers=buyer_headers).get_json()
    assert body["attributable"] == {"amount": 2000, "currency": "CNY"}
    assert [(h["display_name"], h["amount"]["amount"]) for h in body["households"]] == [
        ("李*英", 1500), ("王*国", 500)]
    assert all(h["code"].startswith("HT") and h["village"] for h in body["households"])
    other = api.user_headers(Role.buyer)[1]
    assert_error(api.get(f"{URL}/{order_id}/impact", headers=other), 404, "not_found")
