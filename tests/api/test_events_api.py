"""GET /api/v1/events, and the event on POST /api/v1/orders and POST
/api/v1/seller/offline-sales, on both engines: published events only (filters: phase, kind,
region), bad filters 400 in Chinese; an order placed with an event under way carries it on its
featured seller's order; an offline sale against a published event whose days cover sold_on
carries it, other dates 422 event_not_on_date and nothing written."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.time import CHINA, now_utc, today_china
from marketplace.extensions import db
from marketplace.help.events import services
from marketplace.orders.models import Order
from tests.api.conftest import assert_error
from tests.fixtures.factories import DELIVERY, make_cooperative, make_user, region

URL = "/api/v1/events"


def at(days: float) -> str:
    return (now_utc() + timedelta(days=days)).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def fair(api, make):
    seller, _households = make(make_cooperative, first=950, share_bp=1000)
    tea = make.product(seller, name="云雾茶", price_fen=10000, stock=20)
    rice = make.product(name="大米", price_fen=5000, stock=20)

    def build(session):
        office = make_user(session, "office", region_obj=region(session, "430525"))
        ids = {}
        for name, kw in (("now", {}), ("soon", {"kind": "live", "place": "", "online": True,
                                                "stream_url": "https://live.example.com/1",
                                                "starts_at": at(2), "ends_at": at(2.1)}),
                         ("draft", {})):
            values = {"kind": "fair", "title": f"活动{name}", "starts_at": at(-1),
                      "ends_at": at(1), "place": "县文化广场", "region_code": "430525",
                      "seller_ids": [seller.id], **kw}
            event = services.create(session, office, services.EventInput(**values))
            if name != "draft":
                services.publish(session, office, event)
            ids[name] = event.id
        return ids
    ids = make(build)
    return {"seller": seller, "tea": tea, "rice": rice, **ids,
            "staff": api.staff_headers(seller)[1]}


def test_published_events_with_filters(api, fair):
    body = api.get(URL).get_json()
    assert [e["id"] for e in body["items"]] == [fair["soon"], fair["now"]]
    assert body["total"] == 2
    soon = body["items"][0]
    assert soon["kind"] == "live" and soon["phase"] == "upcoming" and soon["online"]
    assert soon["stream_url"] == "https://live.example.com/1" and soon["place"] is None
    assert soon["organiser"] == "洞口县帮扶办" and soon["seller_ids"] == [fair["seller"].id]
    assert soon["url"].endswith(f"/events/{fair['soon']}")
    ids = lambda **q: [e["id"] for e in api.get(URL, query_string=q).get_json()["items"]]  # noqa: E731
    assert ids(phase="upcoming") == [fair["soon"]]
    assert ids(phase="now") == [fair["now"]]
    assert ids(phase="past") == []
    assert ids(kind="fair") == [fair["now"]]
    assert ids(region="430525") == [fair["soon"], fair["now"]]
    assert ids(region="431224") == []
    for query, field in (({"phase": "later"}, "phase"), ({"kind": "x"}, "kind"),
                         ({"region": "999999"}, "region"), ({"page": "0"}, "page")):
        error = assert_error(api.get(URL, query_string=query), 400, "validation_failed")
        assert field in error["details"]["fields"]


def test_an_order_placed_with_an_event(api, fair):
    _user, headers = api.user_headers("buyer")
    body = {"lines": [{"product_id": fair["tea"].id, "quantity": 1},
                      {"product_id": fair["rice"].id, "quantity": 1}],
            "address": DELIVERY, "idempotency_key": "event-order-1", "event_id": fair["now"]}
    resp = api.post("/api/v1/orders", body, headers=headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    carried = {o["seller"]["id"]: o["event_id"] for o in resp.get_json()["orders"]}
    assert carried[fair["seller"].id] == fair["now"]
    assert sorted(v for v in carried.values() if v is None) == [None]
    for event_id in (fair["soon"], fair["draft"], 999999):
        error = assert_error(api.post("/api/v1/orders", {
            **body, "idempotency_key": f"event-order-{event_id}", "event_id": event_id},
            headers=headers), 422, "event_unavailable")
        assert "活动" in error["message"]
    assert_error(api.post("/api/v1/orders", {**body, "event_id": "x"}, headers=headers), 400)


def sale(fair, **kw) -> dict:
    out = {"sold_on": today_china().isoformat(), "place": "县文化广场", "event_id": fair["now"],
           "payment_method": "cash", "receipt_no": "EV-001",
           "lines": [{"product_id": fair["tea"].id, "quantity": 2,
                      "unit_price": {"amount": 9000, "currency": "CNY"}}]}
    out.update(kw)
    return out


def test_an_offline_sale_against_an_event(api, app, fair):
    resp = api.post("/api/v1/seller/offline-sales", sale(fair), headers=fair["staff"])
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["event_id"] == fair["now"]
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Order))
    error = assert_error(api.post("/api/v1/seller/offline-sales", sale(
        fair, receipt_no="EV-002", sold_on=(today_china() - timedelta(days=5)).isoformat()),
        headers=fair["staff"]), 422, "event_not_on_date")
    assert "不在活动" in error["message"]
    assert_error(api.post("/api/v1/seller/offline-sales", sale(
        fair, receipt_no="EV-003", event_id=fair["draft"]), headers=fair["staff"]), 422,
        "event_unavailable")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == before
