"""The group purchase API, both engines: opening (bad input named, nothing written), reading (who
may see it, the lazy close), joining, paying, changing, withdrawing, closing, and the 404s for
someone else's participation."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.units.models import Campaign, Participation
from tests.api.conftest import assert_error
from tests.fixtures.factories import make_product, make_seller, make_user
from tests.fixtures.units import make_unit

ADDRESS = {"recipient": "张三", "mobile": "13800138000", "region_code": "430525",
           "detail": "人民路 1 号"}


def _iso(delta: timedelta) -> str:
    return (now_utc() + delta).isoformat()


@pytest.fixture
def shop(app, api):
    """A unit with its admin and two members, an outsider, a seller's tea (¥50, 20 in stock)."""
    with app.app_context():
        db.session().expire_on_commit = False
        admin = make_user(db.session, name="单位管理员")
        members = [make_user(db.session, name=f"职工{i}") for i in range(2)]
        outsider = make_user(db.session, name="外人")
        unit = make_unit(db.session, admin=admin, members=members)
        seller = make_seller(db.session)
        staff = make_user(db.session, Role.buyer, Role.seller_staff, seller=seller)
        tea = make_product(db.session, seller, price_fen=5000, stock=20)
        db.session.commit()
    return {"unit": unit.id, "tea": tea.id, "seller": seller.id,
            "admin": api.auth(admin.email), "members": [api.auth(m.email) for m in members],
            "outsider": api.auth(outsider.email), "staff": api.auth(staff.email)}


def _body(shop, **changes) -> dict:
    body = {"unit_id": shop["unit"], "title": "机关食堂团购云雾茶",
            "products": [{"product_id": shop["tea"], "tiers": [
                {"min_quantity": 1, "price": {"amount": 4800, "currency": "CNY"}},
                {"min_quantity": 5, "price": {"amount": 4500, "currency": "CNY"}}]}],
            "minimum_quantity": 3, "per_person_limit": 5, "deadline": _iso(timedelta(days=2)),
            "delivery": "individual", "audience": "members"}
    body.update(changes)
    return body


def _open(api, shop, **changes) -> dict:
    resp = api.post("/api/v1/campaigns", _body(shop, **changes), headers=shop["admin"])
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def _join(api, shop, campaign_id, who, quantity, key=None):
    return api.post(f"/api/v1/campaigns/{campaign_id}/participations", {
        "lines": [{"product_id": shop["tea"], "quantity": quantity}], "address": ADDRESS,
        "idempotency_key": key or f"key-{id(who)}-{quantity}-{campaign_id}"}, headers=who)


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _move_deadline(app, campaign_id, delta=timedelta(minutes=-1)):
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        campaign.deadline = now_utc() + delta
        db.session.commit()


def test_open_read_and_list(api, shop):
    campaign = _open(api, shop)
    assert campaign["status"] == "open" and campaign["committed"] == 0
    assert campaign["deadline"].endswith("+08:00")
    assert campaign["tiers"][0] == {"min_quantity": 1,
                                    "price": {"amount": 4800, "currency": "CNY"}}
    assert campaign["current_tier"] is None
    assert campaign["next_tier"]["missing"] == 1
    assert campaign["share_url"].startswith("http")
    assert campaign["products"][0]["list_price"]["amount"] == 5000
    member = api.get(f"/api/v1/campaigns/{campaign['id']}", headers=shop["members"][0])
    assert member.status_code == 200 and "share_url" not in member.get_json()
    # a members' campaign: not for outsiders, nor anonymous, nor listed for them
    assert_error(api.get(f"/api/v1/campaigns/{campaign['id']}", headers=shop["outsider"]),
                 404)
    assert_error(api.get(f"/api/v1/campaigns/{campaign['id']}"), 404)
    assert api.get("/api/v1/campaigns").get_json()["total"] == 0
    listed = api.get("/api/v1/campaigns", headers=shop["members"][1]).get_json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == campaign["id"]
    assert set(listed) == {"items", "total", "page", "per_page"}
    assert_error(api.get("/api/v1/campaigns?per_page=500"), 400)


def test_link_campaign_is_public(api, shop):
    campaign = _open(api, shop, audience="link")
    assert api.get(f"/api/v1/campaigns/{campaign['id']}").status_code == 200
    assert api.get("/api/v1/campaigns").get_json()["total"] == 1
    assert _join(api, shop, campaign["id"], shop["outsider"], 1).status_code == 201


@pytest.mark.parametrize("changes, field", [
    ({"products": [{"product_id": 0, "tiers": [
        {"min_quantity": 5, "price": {"amount": 4500, "currency": "CNY"}},
        {"min_quantity": 1, "price": {"amount": 4800, "currency": "CNY"}}]}]}, "products[0]"),
    ({"deadline": "2020-01-01T00:00:00+08:00"}, "deadline"),
    ({"deadline": "2030-01-01T00:00:00"}, "deadline"),
    ({"minimum_quantity": 21}, "minimum_quantity"),
    ({"title": 12}, "title"),
    ({"delivery": "drone"}, "delivery"),
    ({"colour": "red"}, "colour"),
])
def test_bad_input_is_named_and_nothing_written(api, shop, app, changes, field):
    if field == "products[0]":
        changes["products"][0]["product_id"] = shop["tea"]
    resp = api.post("/api/v1/campaigns", _body(shop, **changes), headers=shop["admin"])
    error = assert_error(resp, 400)
    assert any(name.startswith(field) for name in error["details"]["fields"]), error
    assert _count(app, Campaign) == 0


def test_tiers_out_of_order_and_above_the_catalogue_price(api, shop, app):
    resp = api.post("/api/v1/campaigns", _body(shop, products=[{"product_id": shop["tea"],
                    "tiers": [{"min_quantity": 1, "price": {"amount": 5100, "currency": "CNY"}},
                              {"min_quantity": 3, "price": {"amount": 5200, "currency": "CNY"}}
                              ]}]), headers=shop["admin"])
    error = assert_error(resp, 400)
    text = " ".join(error["details"]["fields"]["products[0]"])
    assert "原价" in text and "从高到低" in text
    assert _count(app, Campaign) == 0


def test_who_may_open(api, shop):
    # a member is no admin of the unit: 404; a public campaign needs the seller's staff
    assert_error(api.post("/api/v1/campaigns", _body(shop), headers=shop["members"][0]), 404)
    public = _body(shop, unit_id=None, audience="link")
    assert_error(api.post("/api/v1/campaigns", public, headers=shop["outsider"]), 400)
    resp = api.post("/api/v1/campaigns", public, headers=shop["staff"])
    assert resp.status_code == 201, resp.get_data(as_text=True)
    assert resp.get_json()["unit"] is None
    assert_error(api.post("/api/v1/campaigns", _body(shop)), 401)


def test_join_pay_change_withdraw(api, shop, app):
    campaign = _open(api, shop)
    member, other = shop["members"]
    resp = _join(api, shop, campaign["id"], member, 2, key="member-join-1")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    part = resp.get_json()
    assert part["status"] == "pending_payment" and part["amount_due"]["amount"] == 9600
    # the same key again: the same participation; another join: already_joined
    assert _join(api, shop, campaign["id"], member, 2, key="member-join-1").get_json()["id"] \
        == part["id"]
    assert_error(_join(api, shop, campaign["id"], member, 1, key="member-join-2"), 409,
                 "already_joined")
    paid = api.post(f"/api/v1/participations/{part['id']}/payments", {"provider": "simulated"},
                    headers=member)
    assert paid.status_code == 200, paid.get_data(as_text=True)
    assert paid.get_json()["participation"]["paid"]["amount"] == 9600
    assert_error(api.post(f"/api/v1/participations/{part['id']}/payments",
                          {"provider": "stripe"}, headers=member), 400)
    # change to 1: the difference back at once
    changed = api.patch(f"/api/v1/participations/{part['id']}",
                        {"lines": [{"product_id": shop["tea"], "quantity": 1}]}, headers=member)
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["refunded"]["amount"] == 4800
    assert_error(api.patch(f"/api/v1/participations/{part['id']}",
                           {"lines": [{"product_id": shop["tea"], "quantity": 6}]},
                           headers=member), 422, "over_limit")
    # others: 404 (another member), the manager sees it
    assert_error(api.get(f"/api/v1/participations/{part['id']}", headers=other), 404)
    assert_error(api.get(f"/api/v1/participations/{part['id']}", headers=shop["outsider"]), 404)
    assert api.get(f"/api/v1/participations/{part['id']}", headers=shop["admin"]).status_code \
        == 200
    assert_error(api.client.delete(f"/api/v1/participations/{part['id']}", headers=other), 404)
    gone = api.client.delete(f"/api/v1/participations/{part['id']}", headers=member)
    assert gone.status_code == 200
    body = gone.get_json()
    assert body["status"] == "withdrawn" and body["refunded"] == body["paid"]


def test_limits_and_stock(api, shop):
    campaign = _open(api, shop, per_person_limit=30)
    assert_error(_join(api, shop, campaign["id"], shop["members"][0], 21), 409,
                 "insufficient_stock")
    small = _open(api, shop, title="限购两件的团购", per_person_limit=2)
    assert_error(_join(api, shop, small["id"], shop["members"][0], 3), 422, "over_limit")
    assert_error(_join(api, shop, campaign["id"], shop["outsider"], 1), 404)
    bad = api.post(f"/api/v1/campaigns/{campaign['id']}/participations",
                   {"lines": [{"product_id": shop["tea"], "quantity": 1}],
                    "idempotency_key": "no-address-1"}, headers=shop["members"][0])
    assert_error(bad, 400)


def test_deadline_closes_on_read_and_refuses_joins(api, shop, app):
    campaign = _open(api, shop, minimum_quantity=3)
    for who, quantity in zip(shop["members"], (2, 3), strict=True):
        part = _join(api, shop, campaign["id"], who, quantity).get_json()
        assert api.post(f"/api/v1/participations/{part['id']}/payments", {},
                        headers=who).status_code == 200
    early = api.post(f"/api/v1/campaigns/{campaign['id']}/close", headers=shop["admin"])
    assert_error(early, 422, "campaign_open")
    _move_deadline(app, campaign["id"])
    # joining after the deadline: it closes first, then refuses
    assert_error(_join(api, shop, campaign["id"], shop["admin"], 1), 422, "campaign_closed")
    read = api.get(f"/api/v1/campaigns/{campaign['id']}", headers=shop["members"][0]).get_json()
    assert read["status"] == "succeeded" and read["committed"] == 5
    assert read["current_tier"]["min_quantity"] == 5
    assert _count(app, Order) == 2
    mine = api.get(f"/api/v1/participations/{read['my_participation_id'] or 0}",
                   headers=shop["members"][0])
    assert mine.status_code == 404  # no active participation once settled
    with app.app_context():
        part = db.session.scalar(select(Participation).order_by(Participation.id))
        part_id = part.id
    settled = api.get(f"/api/v1/participations/{part_id}", headers=shop["members"][0]).get_json()
    assert settled["status"] == "settled" and settled["order_id"]
    assert settled["refunded"]["amount"] == 2 * (4800 - 4500)
    # closing again is idempotent; a member may not close
    again = api.post(f"/api/v1/campaigns/{campaign['id']}/close", headers=shop["admin"])
    assert again.status_code == 200 and again.get_json()["status"] == "succeeded"
    assert_error(api.post(f"/api/v1/campaigns/{campaign['id']}/close",
                          headers=shop["members"][0]), 403)
    assert _count(app, Order) == 2


def test_close_by_manager_fails_short_campaign(api, shop, app):
    campaign = _open(api, shop, minimum_quantity=10)
    part = _join(api, shop, campaign["id"], shop["members"][0], 2).get_json()
    api.post(f"/api/v1/participations/{part['id']}/payments", {}, headers=shop["members"][0])
    _move_deadline(app, campaign["id"])
    closed = api.post(f"/api/v1/campaigns/{campaign['id']}/close", headers=shop["admin"])
    assert closed.status_code == 200 and closed.get_json()["status"] == "failed"
    back = api.get(f"/api/v1/participations/{part['id']}", headers=shop["members"][0]).get_json()
    assert back["status"] == "failed" and back["refunded"] == back["paid"]
    assert _count(app, Order) == 0
