"""What reaches households, shown before paying (issue 15, point 1): the product page, the cart and
checkout show the households' share in percent and the amount in yuan of each line (预估 for
lot-backed products), the page 钱去了哪里 explains it in both languages, and the home page and
footer no longer promise that every fen reaches households."""
from __future__ import annotations

import re
from datetime import date

import pytest

from marketplace.catalog.models import Product
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.ledger import chain
from marketplace.ledger.models import SupplyLot
from marketplace.sellers.models import Seller, SellerKind
from tests.fixtures.factories import DELIVERY, make_cooperative, make_household, make_user
from tests.services.test_shares import pay


def page(client, url: str, status: int = 200) -> str:
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code)
    return resp.get_data(as_text=True)


def text(html: str) -> str:
    """The page's words without tags, spaces squeezed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def shelf(make, app):
    """A cooperative (30%) with two members selling ¥39.00 tea, and an enterprise (15%) whose oil
    at ¥100.00 goes through supply lots holding 2 units."""
    coop = make(lambda s: make_cooperative(s, first=500, weights=(1, 2), share_bp=3000)[0])
    firm = make.seller(kind=SellerKind.enterprise, name="古楼茶油公司")

    def terms(session):
        session.get(Seller, firm.id).household_share_bp = 1500
        household = make_household(session, n=510)
        return household
    household = make(terms)
    tea = make.product(coop, name="合作社云雾茶", price_fen=3900, stock=20)
    oil = make.product(firm, name="山茶油", price_fen=10000, stock=20)

    def lot(session):
        session.add(SupplyLot(seller_id=firm.id, product_id=oil.id, household_id=household.id,
                              quantity=2, remaining=2, unit_price_fen=4000,
                              purchased_on=date.today(), created_at=now_utc()))
    make(lot)
    return {"tea": tea, "oil": oil}


def add(client, product_id, quantity=1):
    resp = client.post_form("/cart/add", {"product_id": product_id, "quantity": quantity})
    assert resp.status_code == 302


def test_the_product_page_shows_percent_and_yuan_per_unit(client, shelf):
    words = text(page(client, f"/products/{shelf['tea'].id}"))
    assert "每件 ¥11.70 计入农户收入" in words and "商品金额的 30%" in words
    assert "其余 ¥27.30 归合作社" in words and "预估" not in words
    assert "/where-money-goes" in page(client, f"/products/{shelf['tea'].id}")


def test_a_lot_backed_product_page_says_it_is_an_estimate(client, shelf):
    words = text(page(client, f"/products/{shelf['oil'].id}"))
    assert "预估每件 ¥15.00 计入农户收入" in words and "商品金额的 15%" in words
    assert "按收购批次" in words


def test_the_cart_and_checkout_show_each_line_and_the_sum(client, make, shelf):
    make.user("buyer", login="sharer@example.test")
    client.login("sharer@example.test")
    add(client, shelf["tea"].id, 2)
    add(client, shelf["oil"].id, 3)  # the lots hold 2 of the 3 units
    for url in ("/cart", "/checkout"):
        words = text(page(client, url))
        assert "计入农户 30% · ¥23.40" in words, url
        # 300.00 x 15% x 2 of 3 units covered = 30.00, said to be an estimate
        assert "计入农户 15% · 预估 ¥30.00" in words and "批次余量只够 2 件" in words, url
        assert "其中预估计入农户收入 ¥53.40" in words, url
        assert "/where-money-goes" in page(client, url)


def test_a_cart_of_products_without_lots_shows_no_estimate(client, shelf):
    add(client, shelf["tea"].id, 1)
    words = text(page(client, "/cart"))
    assert "计入农户 30% · ¥11.70" in words
    assert "其中计入农户收入 ¥11.70" in words and "预估" not in words


def test_what_the_cart_shows_is_what_the_paid_order_gives(client, api_client, make, shelf):
    """The cart's figure for a product without lots, then the order paid through the API: its
    impact is that figure."""
    add(client, shelf["tea"].id, 3)
    shown = re.search(r"计入农户 30% · (¥[\d.,]+)", text(page(client, "/cart"))).group(1)
    buyer = make.user("buyer", login="payer@example.test")
    token = api_client.post("/api/v1/auth/token", json={
        "login": buyer.email, "password": "secret123"}).get_json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    made = api_client.post("/api/v1/orders", headers=auth, json={
        "lines": [{"product_id": shelf["tea"].id, "quantity": 3}], "address": DELIVERY,
        "idempotency_key": "share-web-1"})
    assert made.status_code == 201, made.get_data(as_text=True)
    order_id = made.get_json()["orders"][0]["id"]
    paid = api_client.post(f"/api/v1/orders/{order_id}/payments", headers=auth,
                           json={"provider": "simulated"})
    assert paid.status_code in (200, 201), paid.get_data(as_text=True)
    impact = api_client.get(f"/api/v1/orders/{order_id}/impact", headers=auth).get_json()
    assert shown == "¥35.10" and impact["attributable"]["amount"] == 3510


@pytest.fixture
def api_client(app):
    return app.test_client()


def test_where_money_goes_in_both_languages(client, shelf):
    zh = text(page(client, "/where-money-goes"))
    assert "钱去了哪里" in zh and "¥39.00" in zh and "¥11.70" in zh and "¥27.30" in zh
    assert "在售 1 件商品，帮扶比例都是 30%" in zh and "在售 1 件商品，帮扶比例都是 15%" in zh
    assert "台账还没有记录" in zh and "flask ledger verify --anchor" in zh
    client.get("/lang/en")
    en = text(page(client, "/where-money-goes"))
    assert "Where the money goes" in en and "¥11.70" in en and "钱去了哪里" not in en
    assert not re.search(r"[\u4e00-\u9fff]{2,}", en.replace("中文", "")
                         .replace("帮扶集市", "")), "untranslated Chinese on the English page"


def test_where_money_goes_shows_the_ledgers_anchor(client, app, shelf):
    with app.app_context():
        tea = db.session.get(Product, shelf["tea"].id)
        pay(db.session, make_user(db.session, "buyer"), [(tea, 1)], "share-anchor-1")
        db.session.commit()
        anchor = chain.head(db.session).anchor
    assert anchor in page(client, "/where-money-goes")


def test_home_and_footer_say_what_is_true(client, shelf):
    html = page(client, "/")
    assert "每一笔货款都记到" not in html and "每一分钱都记到" not in html
    assert "帮扶比例" in html and 'href="/where-money-goes"' in html
