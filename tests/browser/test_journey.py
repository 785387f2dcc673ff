"""A shopper on a phone: home > category > product, in a real Chromium (SQLite only)."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_phone_journey_home_category_product(live_server, shop, phone, artifacts):
    from playwright.sync_api import expect

    page = phone.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)
    try:
        # home: the category grid lists 茶叶 with its two listed products
        page.goto(live_server.url + "/")
        expect(page).to_have_title("消费帮扶 · 帮扶集市")
        tea_chip = page.locator(".cat-grid a", has_text="茶叶")
        expect(tea_chip).to_be_visible()
        expect(tea_chip).to_contain_text("2 件")
        tea_chip.tap()

        # catalogue filtered to tea: both teas, not the orange
        page.wait_for_url("**/products?category=tea")
        expect(page.locator("h1")).to_have_text("茶叶")
        cards = page.locator("a.product-card")
        expect(cards).to_have_count(2)
        expect(page.locator("a.product-card", has_text="雪峰冰糖橙")).to_have_count(0)
        card = page.locator("a.product-card", has_text="洪溪高山云雾茶")
        expect(card.locator(".price")).to_have_text("¥128.00")
        expect(card.locator("img")).to_be_visible()
        card.tap()

        # product page: name, price, certified badge, both breadcrumbs, the image loaded
        page.wait_for_url(f"**/products/{shop.tea.id}")
        page.wait_for_load_state("networkidle")
        expect(page.locator(".product-info h1")).to_have_text("洪溪高山云雾茶")
        expect(page.locator(".price.big")).to_have_text("¥128.00")
        expect(page.locator(".cert-box")).to_contain_text("帮扶产品")
        crumbs = page.locator("nav.breadcrumb").first
        expect(crumbs).to_be_visible()
        expect(crumbs).to_contain_text("首页")
        expect(crumbs.get_by_role("link", name="茶叶")).to_be_visible()
        origin = page.locator("nav.breadcrumb.origin")
        expect(origin).to_be_visible()
        expect(origin.get_by_role("link")).to_have_text(
            ["湖南省", "邵阳市", "洞口县", "月溪镇", "洪溪村"])
        main_image = page.locator("[data-gallery-main]")
        expect(main_image).to_be_visible()
        assert main_image.evaluate("img => img.complete && img.naturalWidth > 0")
        # a phone page does not scroll sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(artifacts / "journey-product.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(artifacts / "journey-failure.png"), full_page=True)
        raise
    assert problems == []
