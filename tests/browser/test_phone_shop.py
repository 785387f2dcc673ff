"""A shopper on a phone (390x844) uses the shop as shops are used (issue 15, point 4): a compact
header, the tab bar with the cart's count, the product's buy bar above it with a quantity
stepper, 立即购买 straight to checkout with just that item (the cart left alone), and 我的订单
by status. Real Chromium, SQLite; screenshots in test-artifacts/."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.orders import addresses
from marketplace.orders.services import AddressInput
from tests.fixtures.factories import DELIVERY, PASSWORD, make_user

pytestmark = pytest.mark.browser


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, "not laid out"
    return box


def test_phone_shop_tab_bar_stepper_and_buy_now(live_server, live_app, shop, phone, artifacts):
    from playwright.sync_api import expect

    with live_app.app_context():  # a buyer with an address in the book: checkout is prefilled
        buyer = make_user(db.session, "buyer", login="phone@example.test")
        addresses.save(db.session, db.session.get(User, buyer.id), AddressInput(**DELIVERY))
        db.session.commit()
    page = phone.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text or m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 500 else None)
    try:
        page.goto(f"{live_server.url}/login")
        page.locator("input[name=login]").fill("phone@example.test")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]", has_text="登录").tap()
        page.wait_for_url(f"{live_server.url}/")

        # a compact header and the tab bar at the bottom of the screen
        header, bar = page.locator("header.topbar"), page.locator("nav.tabbar")
        assert _box(header)["height"] <= 64
        expect(bar).to_be_visible()
        assert _box(bar)["y"] + _box(bar)["height"] == pytest.approx(844, abs=1)
        expect(bar.get_by_role("link", name="首页")).to_have_attribute("aria-current", "page")
        expect(page.locator(".usernav").get_by_role("link", name="我的订单")).to_be_hidden()
        page.screenshot(path=str(artifacts / "phone-shop-home.png"))

        # the product page: the buy bar sits on the tab bar; the stepper steps within 1..stock
        page.goto(f"{live_server.url}/products/{shop.tea.id}")
        buy = page.locator(".buy-bar")
        expect(buy).to_be_visible()
        assert _box(buy)["y"] + _box(buy)["height"] <= _box(bar)["y"] + 1
        quantity = buy.locator("input[name=quantity]")
        fewer = buy.get_by_role("button", name="减少数量")
        more = buy.get_by_role("button", name="增加数量")
        expect(fewer).to_be_disabled()
        more.tap()
        more.tap()
        expect(quantity).to_have_value("3")
        fewer.tap()
        expect(quantity).to_have_value("2")
        assert _box(header)["height"] <= 64
        page.screenshot(path=str(artifacts / "phone-shop-product.png"))

        # 加入购物车: the tab bar counts it
        buy.get_by_role("button", name="加入购物车").tap()
        page.wait_for_url("**/cart")
        expect(bar.locator(".tab-count")).to_have_text("2")
        expect(bar.get_by_role("link", name="购物车")).to_have_attribute("aria-current", "page")

        # 立即购买 another product: checkout with just that line, the cart left as it is
        page.goto(f"{live_server.url}/products/{shop.fruit.id}")
        buy.get_by_role("button", name="增加数量").tap()
        expect(quantity).to_have_value("2")
        buy.get_by_role("button", name="立即购买").tap()
        page.wait_for_url("**/checkout?product=*")
        goods = page.locator(".order-group")
        expect(goods).to_have_count(1)
        expect(goods).to_contain_text("雪峰冰糖橙 × 2")
        expect(goods).not_to_contain_text("洪溪高山云雾茶")
        page.screenshot(path=str(artifacts / "phone-shop-buy-now.png"), full_page=True)
        page.get_by_role("button", name="提交订单").tap()
        page.wait_for_url("**/orders/*")
        expect(page.locator("h1 .badge")).to_have_text("待付款")
        expect(bar.locator(".tab-count")).to_have_text("2")  # the tea is still in the cart

        # 我的 > 我的订单 by status
        bar.get_by_role("link", name="我的", exact=True).tap()
        page.wait_for_url("**/account")
        page.locator(".order-shortcuts a", has_text="待付款").tap()
        page.wait_for_url("**/orders?tab=unpaid")
        expect(page.locator(".order-tabs a.active")).to_contain_text("待付款")
        expect(page.locator(".order-list > li")).to_have_count(1)
        expect(page.locator(".order-list")).to_contain_text("雪峰冰糖橙 × 2")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(artifacts / "phone-shop-orders.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(artifacts / "phone-shop-failure.png"), full_page=True)
        raise
    assert problems == []


def test_wide_screens_keep_the_header_links(live_server, shop, chromium, artifacts):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/products/{shop.tea.id}")
        assert not page.locator("nav.tabbar").is_visible()
        assert page.locator(".usernav").get_by_role("link", name="购物车").is_visible()
        buy = page.locator(".buy-bar")
        assert buy.evaluate("el => getComputedStyle(el).position") == "static"
        assert buy.get_by_role("button", name="立即购买").is_visible()
        page.screenshot(path=str(artifacts / "wide-product.png"))
    finally:
        context.close()
