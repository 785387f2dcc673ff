"""GET /api/v1/regions and /api/v1/regions/{code}/children (the address choice's one level at a
time, also what the checkout page's script reads), and POST /api/v1/orders to a county
anywhere in China. Both engines."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.regions.models import Region
from tests.api.conftest import assert_error
from tests.fixtures.factories import DELIVERY


def test_provinces_then_one_level_at_a_time(api, national_regions):
    resp = api.get("/api/v1/regions")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "public, max-age=3600"
    provinces = resp.get_json()["items"]
    assert len(provinces) == 31
    assert provinces[0] == {"code": "11", "name": "北京市", "label": "北京市",
                            "level": "province"}

    beijing = api.get("/api/v1/regions/11/children").get_json()["items"]
    assert beijing == [{"code": "1101", "name": "市辖区", "label": "北京市", "level": "city"}]
    districts = api.get("/api/v1/regions/1101/children").get_json()["items"]
    assert {"code": "110105", "name": "朝阳区", "label": "朝阳区",
            "level": "county"} in districts and len(districts) == 16
    chongqing = api.get("/api/v1/regions/50/children").get_json()["items"]
    assert [c["label"] for c in chongqing] == ["重庆市", "重庆市（县）"]

    xinjiang = api.get("/api/v1/regions/65/children").get_json()["items"]
    assert {"code": "6501", "name": "乌鲁木齐市", "label": "乌鲁木齐市",
            "level": "city"} in xinjiang
    urumqi = api.get("/api/v1/regions/6501/children").get_json()["items"]
    assert [c["code"] for c in urumqi][:1] == ["650102"] and urumqi[0]["name"] == "天山区"
    # a county of the national list has no children; one of the demo's has its townships
    assert api.get("/api/v1/regions/650102/children").get_json() == {"items": []}


@pytest.mark.parametrize("code", ["99", "999999", "abc", "1" * 13, "11%2F01"])
def test_an_unknown_region_is_a_json_404(api, national_regions, code):
    assert_error(api.get(f"/api/v1/regions/{code}/children"), 404)


@pytest.mark.parametrize("code, names", [
    ("110105", "北京市朝阳区"),
    ("650102", "新疆维吾尔自治区乌鲁木齐市天山区"),
])
def test_an_api_order_to_a_county_anywhere(api, app, goods, buyer_headers, national_regions,
                                           code, names):
    body = {"lines": [{"product_id": goods["tea"], "quantity": 1}],
            "address": {**DELIVERY, "region_code": code}, "idempotency_key": f"anywhere-{code}"}
    resp = api.post("/api/v1/orders", body, headers=buyer_headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    order, = resp.get_json()["orders"]
    assert order["address"]["region"] == names
    again = api.get(f"/api/v1/orders/{order['id']}", headers=buyer_headers).get_json()
    assert again["address"]["region"] == names
    with app.app_context():
        stored = db.session.get(Order, order["id"])
        assert db.session.scalar(select(Region.code).where(Region.id == stored.region_id)) == code


def test_a_city_is_not_an_address(api, goods, buyer_headers, national_regions):
    body = {"lines": [{"product_id": goods["tea"], "quantity": 1}],
            "address": {**DELIVERY, "region_code": "6501"}, "idempotency_key": "city-only-1"}
    error = assert_error(api.post("/api/v1/orders", body, headers=buyer_headers), 400)
    assert "region_code" in error["details"]["fields"]
