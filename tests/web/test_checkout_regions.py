"""Checkout to an address anywhere in China without JavaScript: the 省 > 市 > 区县 selects
come one level at a time from the server ("选择下一级" posts the form, nothing is ordered and
everything typed stays), then the order keeps the county's code and its names. Both engines."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.orders.models import Order, SavedAddress
from marketplace.regions.models import Region

TYPED = {"recipient": "买买提", "mobile": "13912345678", "detail": "人民路 100 号 3 单元",
         "save_address": "y"}


@pytest.fixture
def buyer(make):
    return make.user("buyer", login="buyer1@example.test")


@pytest.fixture
def shopping(client, goods, buyer, national_regions):
    """A signed-in buyer with tea in the cart, and the national list loaded."""
    client.login("buyer1@example.test")
    client.post_form("/cart/add", {"product_id": goods["tea"], "quantity": 1})
    return client


def options(page: str, name: str) -> tuple[list[tuple[str, str]], str]:
    """A select's options (value, label) and the selected value."""
    block = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.DOTALL)
    assert block, f"no select {name}"
    found, chosen = [], ""
    for attrs, label in re.findall(r"<option([^>]*)>([^<]*)</option>", block.group(1)):
        value = re.search(r'value="([^"]*)"', attrs).group(1)
        found.append((value, html.unescape(label)))
        if re.search(r"\bselected\b", attrs):
            chosen = value
    return found, chosen


def idempotency_key(page: str) -> str:
    return re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page).group(1)


def orders(app) -> list[Order]:
    with app.app_context():
        return list(db.session.scalars(select(Order)))


def step(client, data: dict) -> str:
    resp = client.post_form("/checkout", {**data, "region_step": "1"})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:2000]
    return resp.get_data(as_text=True)


@pytest.mark.parametrize("province, city, county, names", [
    ("11", None, "110105", "北京市朝阳区"),  # a municipality: its one city comes at once
    ("65", "6501", "650102", "新疆维吾尔自治区乌鲁木齐市天山区"),
])
def test_checkout_without_javascript_steps_down_to_a_county(shopping, app, province, city,
                                                             county, names):
    page = shopping.get("/checkout").get_data(as_text=True)
    provinces, chosen = options(page, "province")
    assert len(provinces) == 32 and chosen == "" and ("65", "新疆维吾尔自治区") in provinces
    assert options(page, "city")[0] == [("", "请选择城市")]
    assert options(page, "region_code")[0] == [("", "请选择区县")]
    assert 'name="region_step"' in page and "js/address.js" in page
    form = {**TYPED, "idempotency_key": idempotency_key(page), "province": province,
            "city": "", "region_code": ""}

    page = step(shopping, form)
    assert options(page, "province")[1] == province
    if city:  # a province of many cities: choose one, step again
        cities, chosen = options(page, "city")
        assert chosen == "" and (city, "乌鲁木齐市") in cities
        assert options(page, "region_code")[0] == [("", "请选择区县")]
        form["city"] = city
        page = step(shopping, form)
    counties, chosen = options(page, "region_code")
    assert chosen == "" and county in dict(counties)
    assert options(page, "city")[1] == (city or "1101")
    # what was typed is still there, the same idempotency key, and nothing was ordered
    assert 'value="买买提"' in page and 'value="人民路 100 号 3 单元"' in page
    assert idempotency_key(page) == form["idempotency_key"]
    assert "请选择收货地区" not in page and orders(app) == []

    form.update(city=options(page, "city")[1], region_code=county)
    resp = shopping.post_form("/checkout", form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    order, = orders(app)
    with app.app_context():
        order = db.session.get(Order, order.id)
        assert db.session.get(Region, order.region_id).code == county
        assert order.region_names == names
        assert order.recipient == "买买提"
        saved = db.session.scalar(select(SavedAddress))
        assert saved.region.code == county
    assert names in shopping.get(f"/orders/{order.id}").get_data(as_text=True)


def test_a_saved_address_comes_back_with_its_three_choices(shopping, goods):
    page = shopping.get("/checkout").get_data(as_text=True)
    form = {**TYPED, "idempotency_key": idempotency_key(page), "province": "65",
            "city": "6501", "region_code": "650102"}
    assert shopping.post_form("/checkout", form).status_code == 302
    shopping.post_form("/cart/add", {"product_id": goods["tea"], "quantity": 1})
    page = shopping.get("/checkout").get_data(as_text=True)
    assert options(page, "province")[1] == "65"
    assert options(page, "city")[1] == "6501"
    counties, chosen = options(page, "region_code")
    assert chosen == "650102" and ("650102", "天山区") in counties


def test_a_new_province_empties_the_choices_below_it(shopping, app):
    page = shopping.get("/checkout").get_data(as_text=True)
    form = {**TYPED, "idempotency_key": idempotency_key(page), "province": "11",
            "city": "6501", "region_code": "650102"}  # 乌鲁木齐 still posted after 北京 chosen
    page = step(shopping, form)
    assert options(page, "province")[1] == "11" and options(page, "city")[1] == "1101"
    assert options(page, "region_code")[1] == ""
    # ordering with the stale county is refused on the 区县 select, nothing is ordered
    resp = shopping.post_form("/checkout", form)
    assert resp.status_code == 400
    assert "请选择收货地区" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_a_county_code_alone_still_orders(shopping, app):
    """Forms posted without 省 and 市 (older pages, scripts) name the county alone."""
    page = shopping.get("/checkout").get_data(as_text=True)
    form = {**TYPED, "idempotency_key": idempotency_key(page), "region_code": "650102"}
    assert shopping.post_form("/checkout", form).status_code == 302
    assert orders(app)[0].region_names == "新疆维吾尔自治区乌鲁木齐市天山区"


def test_the_catalogue_filter_keeps_to_counties_with_places(client, goods, national_regions):
    """Products come from villages: the catalogue's county select lists the counties with
    townships registered, not the 2,978 of the national list."""
    counties, _ = options(client.get("/products").get_data(as_text=True), "region")
    assert [code for code, _ in counties if code] == ["430525", "431224"]
