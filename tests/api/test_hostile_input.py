"""Hostile JSON and query strings against the API (both engines): numbers beyond what the
database holds, JSON nested absurdly deep, lone surrogates and hidden characters in texts.
Always a JSON error naming the field, never a 500, nothing written."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.orders.models import Order
from tests.api.conftest import assert_error

HUGE = 9223372036854775808


def _raw(api, url, text, headers=None):
    return api.client.post(url, data=text.encode("utf-8", "surrogatepass"),
                           content_type="application/json", headers=headers or {})


@pytest.mark.parametrize("depth", [33, 990, 100_000])
def test_json_nested_too_deep_is_invalid_json(api, depth):
    body = "[" * depth + "]" * depth
    assert_error(_raw(api, "/api/v1/auth/token", body), 400, "invalid_json")
    body = '{"a":' * depth + "1" + "}" * depth
    assert_error(_raw(api, "/api/v1/auth/token", body), 400, "invalid_json")


def test_json_of_depth_32_is_read(api):
    inner = "[" * 30 + "]" * 30
    resp = _raw(api, "/api/v1/auth/token", '{"login": "a@b.cn", "password": "x", "z": ' + inner
                + "}")
    assert resp.get_json()["error"]["code"] != "invalid_json"


@pytest.mark.parametrize("field", ["login", "password"])
def test_a_lone_surrogate_in_a_login_is_a_named_400(api, field):
    body = {"login": "a@b.cn", "password": "secret123"}
    text = json.dumps(body).replace('"secret123"' if field == "password" else '"a@b.cn"',
                                    '"\\udc80"')
    error = assert_error(_raw(api, "/api/v1/auth/token", text), 400, "validation_failed")
    assert field in error["details"]["fields"]


def test_huge_ids_and_quantities_in_an_order_are_named_400s(app, api, goods):
    headers = api.user_headers(Role.buyer)[1]
    address = {"recipient": "张三", "mobile": "13800138000", "region_code": "430525101201",
               "detail": "一组"}
    for lines, field in (([{"product_id": HUGE, "quantity": 1}], "lines[0].product_id"),
                         ([{"product_id": goods["tea"], "quantity": HUGE}], "lines[0].quantity"),
                         ([{"product_id": -HUGE, "quantity": 1}], "lines[0].product_id")):
        resp = api.post("/api/v1/orders", {"lines": lines, "address": address},
                        headers=headers)
        error = assert_error(resp, 400, "validation_failed")
        assert field in error["details"]["fields"]
    for name, value in (("recipient", "张\u202e三"), ("detail", "一组\x00"),
                        ("detail", "一组\u200b"), ("recipient", "\udc80")):
        text = json.dumps({"lines": [{"product_id": goods["tea"], "quantity": 1}],
                           "address": dict(address, **{name: value})})
        error = assert_error(_raw(api, "/api/v1/orders", text, headers), 400)
        assert f"address.{name}" in error["details"]["fields"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_hidden_characters_in_a_product_are_refused_and_lines_kept(api, make):
    seller = make.seller()
    _, headers = api.staff_headers(seller)
    product = make.product(seller)
    url = f"/api/v1/seller/products/{product.id}"
    for field, value in (("name", "好\u202e茶"), ("name", "好\n茶"), ("spec", "\x1b[31m"),
                         ("description", "好\u2066茶")):
        error = assert_error(api.patch(url, {field: value}, headers=headers), 400)
        assert field in error["details"]["fields"]
    resp = api.patch(url, {"description": "第一行\n第二行\t好"}, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["description"] == "第一行\n第二行\t好"


@pytest.mark.parametrize("query", [f"seller={HUGE}", "seller=99999999999999999999",
                                   f"min_price={HUGE}", f"page={HUGE}", "q=%00",
                                   "q=%E2%80%AE", f"per_page={HUGE}"])
def test_hostile_query_strings_are_400_json(api, query):
    resp = api.get(f"/api/v1/products?{query}")
    assert resp.status_code in (200, 400), resp.get_data(as_text=True)
    if resp.status_code == 400:
        assert_error(resp, 400)
