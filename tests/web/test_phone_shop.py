"""The shop as people know it on a phone (issue 15, point 4): the tab bar and its cart count,
the product page's buy bar (立即购买 goes to checkout with just that line), 我的订单 by status
a page at a time, 我的 (the account page), and the seller's orders opening where there is work."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.orders.models import CartItem, Order, OrderStatus
from marketplace.orders.services import AddressInput
from tests.fixtures.factories import DELIVERY
from tests.web.test_order_tabs import place, set_status


@pytest.fixture
def buyer(make):
    return make.user("buyer", login="phone@example.test")


def add(client, product_id, quantity=1):
    return client.post_form("/cart/add", {"product_id": product_id, "quantity": quantity})


def tabbar(html: str) -> str:
    found = re.search(r'<nav class="tabbar".*?</nav>', html, re.S)
    assert found, "no tab bar"
    return found.group(0)


def test_the_tab_bar_links_and_the_cart_count(client, goods, buyer):
    bar = tabbar(client.get("/").get_data(as_text=True))
    hrefs = re.findall(r'href="([^"]+)"', bar)
    assert hrefs == ["/", "/products", "/cart", "/my-help", "/account"]
    for label in ("首页", "分类", "购物车", "我的帮扶", "我的"):
        assert label in bar
    assert 'href="/" aria-current="page"' in bar
    assert "tab-count" not in bar  # an empty cart shows no number

    add(client, goods["tea"], 2)
    add(client, goods["zao"], 1)
    page = client.get(f"/products/{goods['tea']}").get_data(as_text=True)
    bar = tabbar(page)
    assert '<span class="tab-count" aria-hidden="true">3</span>' in bar
    assert "（3 件）" in bar  # what a screen reader hears
    assert 'href="/products" aria-current="page"' in bar
    assert '<span class="cart-count">3</span>' in page  # the header's link on a wide screen

    client.login("phone@example.test")  # the visitor's cart joins the buyer's
    assert '<span class="tab-count" aria-hidden="true">3</span>' in \
        tabbar(client.get("/cart").get_data(as_text=True))
    client.get("/lang/en")
    bar = tabbar(client.get("/").get_data(as_text=True))
    assert "Home" in bar and "Me" in bar and "(3 items)" in bar


def test_the_buy_bar_has_a_stepper_and_two_ways_to_buy(client, goods):
    page = client.get(f"/products/{goods['tea']}").get_data(as_text=True)
    form = re.search(r'<form action="/cart/add"[^>]*class="buy-form buy-bar">.*?</form>',
                     page, re.S).group(0)
    assert 'name="quantity" value="1" min="1" max="5"' in form
    assert form.count('data-step=') == 2 and form.count(" hidden>") == 2  # shown by stepper.js
    assert "加入购物车" in form
    assert 'formaction="/buy-now">立即购买</button>' in form
    assert "js/stepper.js" in page and 'class="has-buybar"' in page


def test_buy_now_checks_out_just_that_line_and_leaves_the_cart(client, app, goods, buyer):
    client.login("phone@example.test")
    add(client, goods["zao"], 1)  # already in the cart: stays there
    resp = client.post_form("/buy-now", {"product_id": goods["tea"], "quantity": 2})
    assert resp.status_code == 302
    target = resp.headers["Location"]
    assert target == f"/checkout?product={goods['tea']}&quantity=2"
    page = client.get(target).get_data(as_text=True)
    assert "云雾茶 × 2" in page and "红枣 ×" not in page and "¥90.00" in page
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page) or \
        re.search(r'id="idempotency_key" name="idempotency_key" type="hidden" value="([0-9a-f]+)"',
                  page)
    resp = client.post_form(target, {**DELIVERY, "idempotency_key": key.group(1)})
    assert resp.status_code == 302 and "/orders/" in resp.headers["Location"]
    with app.app_context():
        order = db.session.scalars(select(Order)).one()
        assert [(ln.product_id, ln.quantity) for ln in order.lines] == [(goods["tea"], 2)]
        assert db.session.execute(select(CartItem.product_id, CartItem.quantity)).all() == \
            [(goods["zao"], 1)]


def test_buy_now_refuses_what_the_cart_would_refuse(client, goods, buyer):
    resp = client.post_form("/buy-now", {"product_id": goods["zao"], "quantity": 3})
    assert resp.headers["Location"] == f"/products/{goods['zao']}"
    assert "库存只剩 2 件" in client.get(resp.headers["Location"]).get_data(as_text=True)
    # a visitor signs in on the way and comes back to the same line
    resp = client.post_form("/buy-now", {"product_id": goods["zao"], "quantity": 2})
    resp = client.get(resp.headers["Location"])
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert f"product%3D{goods['zao']}" in resp.headers["Location"]
    client.login("phone@example.test")
    page = client.get(f"/checkout?product={goods['zao']}&quantity=9").get_data(as_text=True)
    assert "库存只剩 2 件" in page  # typed into the address bar: shown, not placed
    assert client.get("/checkout?product=999999").headers["Location"] == "/products"


def test_the_account_page_is_the_phones_me(client, app, goods, buyer):
    """我的: the orders by status with their counts, then the links the header keeps for wider
    screens (messages, 我的帮扶, the address book, the consoles one may open) and signing out."""
    ids = place(app, "phone@example.test", goods["tea"], 4)
    set_status(app, ids[2:3], OrderStatus.paid, paid_fen=4500)
    set_status(app, ids[3:4], OrderStatus.completed, paid_fen=4500, refunded_fen=100)
    client.login("phone@example.test")
    page = client.get("/account").get_data(as_text=True)
    shortcuts = re.search(r'<ul class="order-shortcuts">.*?</ul>', page, re.S).group(0)
    assert re.findall(r'href="/orders\?tab=(\w+)"><b>(\d+)</b>', shortcuts) == [
        ("unpaid", "2"), ("to_ship", "1"), ("to_receive", "0"), ("done", "1"),
        ("after_sale", "1")]
    links = re.search(r'<ul class="plain my-links">.*?</ul>', page, re.S).group(0)
    assert re.findall(r'href="([^"]+)"', links) == ["/notifications", "/my-help", "/addresses"]
    assert 'action="/logout"' in page and "退出登录" in page


def test_buy_now_keeps_its_line_when_another_address_is_chosen(client, app, goods, buyer):
    from marketplace.orders import addresses
    with app.app_context():
        user = db.session.get(User, buyer.id)
        addresses.save(db.session, user, AddressInput(**DELIVERY))
        addresses.save(db.session, user, AddressInput(**{**DELIVERY, "recipient": "李四"}))
        db.session.commit()
    client.login("phone@example.test")
    page = client.get(f"/checkout?product={goods['tea']}&quantity=2").get_data(as_text=True)
    links = re.findall(r'href="(/checkout\?[^"]*address=\d+[^"]*)"', page)
    assert len(links) == 2
    for link in links:
        link = link.replace("&amp;", "&")
        assert f"product={goods['tea']}" in link and "quantity=2" in link
        assert "云雾茶 × 2" in client.get(link).get_data(as_text=True)
