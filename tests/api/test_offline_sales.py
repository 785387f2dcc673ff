"""POST /api/v1/seller/offline-sales on both engines: 201 with the order (channel offline, posted
to the ledger), the same receipt again answers it (200), another sale under it 409, bad input
400 and an event 422 with Chinese messages and nothing written, staff of the seller only; the
seller's refund of it reverses the households' income."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.core.time import today_china
from marketplace.extensions import db
from marketplace.ledger import chain
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Order
from tests.api.conftest import assert_error
from tests.fixtures.factories import make_cooperative

URL = "/api/v1/seller/offline-sales"


@pytest.fixture
def stall(api, make):
    seller, _households = make(make_cooperative, first=800, share_bp=1000)
    tea = make.product(seller, name="云雾茶", price_fen=12800, stock=10)
    dates = make.product(seller, name="红枣", price_fen=3800, stock=5)
    return {"seller": seller, "tea": tea, "dates": dates,
            "staff": api.staff_headers(seller)[1]}


def body(stall, **kw) -> dict:
    out = {"sold_on": (today_china() - timedelta(days=2)).isoformat(), "place": "洞口县消费帮扶集市",
           "event_id": None, "payment_method": "cash", "receipt_no": "NO-001",
           "lines": [{"product_id": stall["tea"].id, "quantity": 2,
                      "unit_price": {"amount": 10000, "currency": "CNY"}},
                     {"product_id": stall["dates"].id, "quantity": 1,
                      "unit_price": {"amount": 3500, "currency": "CNY"}}]}
    out.update(kw)
    return out


def totals(app) -> tuple[int, int]:
    with app.app_context():
        return (db.session.scalar(select(func.count()).select_from(Order)),
                db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))))


def test_a_sale_is_recorded_and_posted(api, app, stall):
    resp = api.post(URL, body(stall), headers=stall["staff"])
    assert resp.status_code == 201, resp.get_data(as_text=True)
    order = resp.get_json()
    assert order["channel"] == "offline" and order["status"] == "received"
    assert order["total"] == order["paid"] == {"amount": 23500, "currency": "CNY"}
    assert order["offline"] == {"sold_on": body(stall)["sold_on"], "place": "洞口县消费帮扶集市",
                                "receipt_no": "NO-001", "payment_method": "cash"}
    assert resp.headers["Location"].endswith(f"/api/v1/orders/{order['id']}")
    assert totals(app) == (1, 2350)  # 10% of each line to the members
    with app.app_context():
        assert chain.verify(db.session).ok
    # the same receipt again: the same order, nothing written
    again = api.post(URL, body(stall), headers=stall["staff"])
    assert again.status_code == 200 and again.get_json()["id"] == order["id"]
    assert totals(app) == (1, 2350)
    # another sale under the number: 409
    assert_error(api.post(URL, body(stall, payment_method="transfer"), headers=stall["staff"]),
                 409, "receipt_no_taken")
    # corrected by a refund: each line's income reversed in proportion (goods refunded first)
    refund = api.post(f"/api/v1/orders/{order['id']}/refunds",
                      json={"amount": {"amount": 3500, "currency": "CNY"}, "reason": "退一盒枣"},
                      headers=stall["staff"])
    assert refund.status_code == 201, refund.get_data(as_text=True)
    assert totals(app) == (1, 2350 - 2000 * 3500 // 23500 - 350 * 3500 // 23500)
    with app.app_context():
        assert chain.verify(db.session).ok


def test_bad_input_is_400_and_an_event_422_with_nothing_written(api, app, stall):
    cases = [
        (body(stall, sold_on=(today_china() + timedelta(days=1)).isoformat()), 400, "sold_on"),
        (body(stall, place=""), 400, "place"),
        (body(stall, payment_method="card"), 400, "payment_method"),
        (body(stall, receipt_no="A 1"), 400, "receipt_no"),
        (body(stall, lines=[]), 400, "lines"),
        (body(stall, lines=[{"product_id": stall["tea"].id, "quantity": 1,
                             "unit_price": 100}]), 400, "lines"),
        (body(stall, lines=[{"product_id": stall["tea"].id, "quantity": 0,
                             "unit_price": {"amount": 100, "currency": "CNY"}}]), 400, "lines"),
        (body(stall, surprise=1), 400, "surprise"),
        (body(stall, event_id="x"), 400, "event_id"),
    ]
    for payload, status, field in cases:
        error = assert_error(api.post(URL, payload, headers=stall["staff"]), status)
        assert field in error["details"]["fields"], (field, error)
    error = assert_error(api.post(URL, body(stall, event_id=7), headers=stall["staff"]), 422,
                         "event_unavailable")
    assert "活动" in error["message"]
    short = body(stall, lines=[{"product_id": stall["tea"].id, "quantity": 11,
                                "unit_price": {"amount": 100, "currency": "CNY"}}])
    error = assert_error(api.post(URL, short, headers=stall["staff"]), 409, "insufficient_stock")
    assert "库存不足" in error["message"]
    assert totals(app) == (0, 0)


def test_only_the_sellers_staff(api, make, stall):
    assert_error(api.post(URL, body(stall)), 401)
    assert_error(api.post(URL, body(stall), headers=api.user_headers(Role.buyer)[1]), 403)
    other = api.staff_headers(make.seller())[1]
    assert_error(api.post(URL, body(stall, seller_id=stall["seller"].id), headers=other), 404)
    # another seller's staff naming no seller records for their own, where the products are not
    error = assert_error(api.post(URL, body(stall), headers=other), 400)
    assert "lines" in error["details"]["fields"]
