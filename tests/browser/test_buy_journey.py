"""A shopper on a phone buys: cart as a visitor, sign in at checkout, address, test payment
(real Chromium, SQLite)."""
from __future__ import annotations

import pytest

from marketplace.extensions import db
from tests.fixtures.factories import PASSWORD, make_user

pytestmark = pytest.mark.browser


def test_phone_journey_cart_checkout_pay(live_server, live_app, shop, phone, artifacts):
    from playwright.sync_api import expect

    with live_app.app_context():
        make_user(db.session, "buyer", login="shopper@example.test")
        db.session.commit()
    page = phone.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 500 else None)
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        page.goto(f"{live_server.url}/products/{shop.tea.id}")
        page.locator(".buy-form input[name=quantity]").fill("2")
        page.get_by_role("button", name="加入购物车").tap()
        page.wait_for_url("**/cart")
        expect(page.locator(".cart-line")).to_contain_text("洪溪高山云雾茶")
        expect(page.locator(".checkout-bar")).to_contain_text("¥256.00")
        page.get_by_role("link", name="去结算").tap()

        # checkout asks a visitor to sign in, then comes back with the cart merged
        page.wait_for_url("**/login**")
        page.locator("input[name=login]").fill("shopper@example.test")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]", has_text="登录").tap()
        page.wait_for_url("**/checkout")
        page.locator("input[name=recipient]").fill("王小红")
        page.locator("input[name=mobile]").fill("13912345678")
        page.locator("select[name=province]").select_option("43")  # 省 > 市 > 区县
        page.locator("select[name=city]").select_option("4312")
        page.locator("select[name=region_code]").select_option("431224")
        page.locator("input[name=detail]").fill("卢峰镇建设路 8 号")
        page.screenshot(path=str(artifacts / "journey-checkout.png"), full_page=True)
        page.get_by_role("button", name="提交订单").tap()

        page.wait_for_url("**/orders/*")
        expect(page.locator("h1 .badge")).to_have_text("待付款")
        page.get_by_role("link", name="去付款").tap()
        expect(page.locator(".test-payment")).to_contain_text("测试模式")
        page.get_by_role("button", name="付款成功", exact=True).tap()
        page.wait_for_url("**/orders/*")
        expect(page.locator("h1 .badge")).to_have_text("已付款")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(artifacts / "journey-paid.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(artifacts / "journey-buy-failure.png"), full_page=True)
        raise
    assert problems == []
