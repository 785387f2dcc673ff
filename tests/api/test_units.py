"""The units API: listing, applying, one unit (with its filing), joining with a code, and orders
counted toward a unit; bad input answers Chinese JSON errors and writes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.core.time import now_utc, today_china
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.units.models import FilingStatus, Unit, UnitFiling, UnitKind, UnitStatus
from tests.api.conftest import assert_error
from tests.fixtures.factories import DELIVERY, valid_credit_code
from tests.fixtures.units import make_unit

APPLICATION = {"kind": "enterprise", "name": "洞口县雪峰食品有限公司",
               "credit_code": valid_credit_code(7100), "region_code": "430525",
               "contact_name": "周经理", "contact_mobile": "13900002222",
               "address_detail": "工业园 3 号", "invoice_title": "洞口县雪峰食品有限公司"}


@pytest.fixture
def unit_world(api, make):
    make.regions()
    admin, admin_h = api.user_headers(Role.buyer)
    member, member_h = api.user_headers(Role.buyer)
    stranger, stranger_h = api.user_headers(Role.buyer)

    def build(session):
        unit = make_unit(session, admin=db.session.get(type(admin), admin.id),
                         members=[db.session.get(type(member), member.id)])
        unit.invite_code, unit.invite_expires_at = "ABCD2345", now_utc() + timedelta(days=3)
        return unit
    unit = make(build)
    seller = make.seller()
    product = make.product(seller, price_fen=2000, stock=50)
    return {"unit": unit, "admin": admin_h, "member": member_h, "stranger": stranger_h,
            "stranger_user": stranger, "product": product}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_list_shows_verified_units_paged(api, make, unit_world):
    make(lambda s: make_unit(s, status=UnitStatus.pending))
    make(lambda s: make_unit(s, region_code="431224", kind=UnitKind.union))
    body = api.get("/api/v1/units?per_page=1").get_json()
    assert body["total"] == 2 and body["per_page"] == 1 and len(body["items"]) == 1
    assert set(body["items"][0]) == {"id", "name", "kind", "status", "region", "members"}
    only = api.get("/api/v1/units?region=431224").get_json()
    assert [u["kind"] for u in only["items"]] == ["union"]
    assert_error(api.get("/api/v1/units?page=0"), 400)
    assert_error(api.get("/api/v1/units?kind=club"), 400)


def test_apply_then_pending(api, unit_world):
    resp = api.post("/api/v1/units", json=APPLICATION, headers=unit_world["stranger"])
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "pending" and body["filing"] is None
    assert "invite_code" not in body
    assert_error(api.post("/api/v1/units", json=APPLICATION), 401)
    err = assert_error(api.post("/api/v1/units", json=APPLICATION,
                                headers=unit_world["member"]), 409)
    assert "信用代码" in err["message"]


@pytest.mark.parametrize("change,field", [
    ({"credit_code": "91430525MA4L0001XZ"}, "credit_code"),
    ({"kind": "club"}, "kind"),
    ({"name": 5}, "name"),
    ({"extra": "x"}, "extra"),
])
def test_bad_applications(api, app, unit_world, change, field):
    before = count(app, Unit)
    err = assert_error(api.post("/api/v1/units", json={**APPLICATION, **change},
                                headers=unit_world["stranger"]), 400)
    assert field in err["details"]["fields"]
    assert count(app, Unit) == before


def test_one_unit_for_who_may_see_it(api, make, unit_world):
    unit = unit_world["unit"]
    year = today_china().year

    def file(session):
        session.add(UnitFiling(unit_id=unit.id, year=year, canteen_spend_fen=1_000_000,
                               reserved_share_bp=1000, reserved_fen=100_000,
                               status=FilingStatus.approved))
    make(file)
    url = f"/api/v1/units/{unit.id}"
    admin_view = api.get(url, headers=unit_world["admin"]).get_json()
    assert admin_view["invite_code"] == "ABCD2345" and admin_view["invite_expires_at"]
    assert admin_view["members"] == 2
    assert admin_view["filing"]["reserved"] == {"amount": 100_000, "currency": "CNY"}
    assert admin_view["filing"]["counted"] == {"amount": 0, "currency": "CNY"}
    member_view = api.get(url, headers=unit_world["member"]).get_json()
    assert "invite_code" not in member_view and member_view["is_member"]
    office_h = api.user_headers(Role.office, region_obj=unit.region)[1]
    assert api.get(url, headers=office_h).status_code == 200
    assert_error(api.get(url, headers=unit_world["stranger"]), 404)
    assert_error(api.get("/api/v1/units/999999", headers=unit_world["admin"]), 404)
    assert_error(api.get(url), 401)


def test_join_with_a_code(api, app, unit_world):
    url = f"/api/v1/units/{unit_world['unit'].id}/members"
    h = unit_world["stranger"]
    assert_error(api.post(url, json={"code": "WRONG999"}, headers=h), 422, "invalid_invite")
    assert_error(api.post(url, json={}, headers=h), 400)
    assert_error(api.post(url, json={"code": 5}, headers=h), 400)
    assert_error(api.post("/api/v1/units/999999/members", json={"code": "ABCD2345"},
                          headers=h), 404)
    first = api.post(url, json={"code": "abcd2345"}, headers=h)
    assert first.status_code == 201 and first.get_json()["joined"] is True
    again = api.post(url, json={"code": "ABCD2345"}, headers=h)
    assert again.status_code == 200 and again.get_json()["joined"] is False
    assert first.get_json()["unit"]["members"] == 3


def order_body(unit_world, **kw):
    return {"lines": [{"product_id": unit_world["product"].id, "quantity": 1}],
            "address": DELIVERY, "idempotency_key": "unit-order-0001", **kw}


def test_orders_counted_toward_a_unit(api, app, unit_world):
    unit_id = unit_world["unit"].id
    resp = api.post("/api/v1/orders", json=order_body(unit_world, channel="unit_member",
                                                      unit_id=unit_id),
                    headers=unit_world["member"])
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()["orders"][0]
    assert order["channel"] == "unit_member" and order["unit_id"] == unit_id
    bought = api.post("/api/v1/orders", json={**order_body(unit_world, channel="unit_purchase",
                                                           unit_id=unit_id),
                                              "address": None}, headers=unit_world["admin"])
    assert bought.status_code == 400  # null is no address: leave it out instead
    body = order_body(unit_world, channel="unit_purchase", unit_id=unit_id)
    del body["address"]
    bought = api.post("/api/v1/orders", json=body, headers=unit_world["admin"])
    assert bought.status_code == 201, bought.get_json()
    assert bought.get_json()["orders"][0]["address"]["detail"] == "人民路 1 号"


def test_orders_of_non_members_are_refused_and_nothing_written(api, app, unit_world):
    unit_id = unit_world["unit"].id
    before = count(app, Order)
    err = assert_error(api.post("/api/v1/orders", json=order_body(
        unit_world, channel="unit_member", unit_id=unit_id), headers=unit_world["stranger"]),
        422)
    assert err["message"] == "您不是该单位的成员，不能计入该单位"
    assert_error(api.post("/api/v1/orders", json=order_body(
        unit_world, channel="unit_purchase", unit_id=unit_id), headers=unit_world["member"]),
        422)
    assert_error(api.post("/api/v1/orders", json=order_body(
        unit_world, channel="unit_member", unit_id=999999), headers=unit_world["member"]), 404)
    assert_error(api.post("/api/v1/orders", json=order_body(
        unit_world, channel="unit_member"), headers=unit_world["member"]), 422)
    assert_error(api.post("/api/v1/orders", json=order_body(
        unit_world, channel="unit_member", unit_id="1"), headers=unit_world["member"]), 400)
    assert_error(api.post("/api/v1/orders", json=order_body(
        unit_world, channel="individual", unit_id=unit_id), headers=unit_world["member"]), 422)
    assert_error(api.post("/api/v1/orders", json=order_body(
        unit_world, channel="group_purchase"), headers=unit_world["member"]), 422)
    assert count(app, Order) == before
