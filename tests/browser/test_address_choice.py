"""A buyer on a phone in Ürümqi: 新疆 > 乌鲁木齐 > 天山区 with JavaScript, each select filled
from /api/v1/regions/<code>/children without a reload, then the order (real Chromium, SQLite,
the national region list loaded)."""
from __future__ import annotations

import pytest

from marketplace.extensions import db
from tests.fixtures.factories import PASSWORD, make_national_regions, make_user

pytestmark = pytest.mark.browser


def test_phone_chooses_xinjiang_urumqi_tianshan_without_reload(live_server, live_app, shop,
                                                               phone, artifacts):
    from playwright.sync_api import expect

    with live_app.app_context():
        make_national_regions(db.session)
        make_user(db.session, "buyer", login="urumqi@example.test")
        db.session.commit()
    page = phone.new_page()
    problems: list[str] = []
    asked: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}")
            if msg.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 else None)
    page.on("request", lambda r: asked.append(r.url) if "/api/v1/regions/" in r.url else None)
    try:
        page.goto(f"{live_server.url}/login")
        page.locator("input[name=login]").fill("urumqi@example.test")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]", has_text="登录").tap()
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/products/{shop.tea.id}")
        page.get_by_role("button", name="加入购物车").tap()
        page.wait_for_url("**/cart")
        page.get_by_role("link", name="去结算").tap()
        page.wait_for_url("**/checkout")

        # with JavaScript the server's step button is gone; a mark on the page survives only
        # if the page is never reloaded
        expect(page.locator("button[name=region_step]")).to_have_count(0)
        page.evaluate("window.__sameCheckoutPage = true")
        page.locator("input[name=recipient]").fill("买买提")
        page.locator("input[name=mobile]").fill("13912345678")
        city, county = page.locator("select[name=city]"), page.locator("select[name=region_code]")
        page.locator("select[name=province]").select_option(label="新疆维吾尔自治区")
        expect(city.locator("option", has_text="乌鲁木齐市")).to_have_count(1)
        expect(county.locator("option")).to_have_count(1)  # only its prompt until a city
        city.select_option(label="乌鲁木齐市")
        expect(county.locator("option", has_text="天山区")).to_have_count(1)
        county.select_option(label="天山区")
        page.locator("input[name=detail]").fill("人民路 100 号 3 单元")
        assert page.evaluate("window.__sameCheckoutPage") is True
        assert [u.rsplit("/regions/", 1)[1] for u in asked] == ["65/children", "6501/children"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.screenshot(path=str(artifacts / "address-xinjiang-tianshan.png"), full_page=True)

        # a new province empties the city and the county again
        page.locator("select[name=province]").select_option(label="北京市")
        expect(city).to_have_value("1101")  # a municipality's one city is chosen at once
        expect(county.locator("option", has_text="朝阳区")).to_have_count(1)
        expect(county).to_have_value("")
        page.locator("select[name=province]").select_option(label="新疆维吾尔自治区")
        expect(city.locator("option", has_text="乌鲁木齐市")).to_have_count(1)
        city.select_option(label="乌鲁木齐市")
        expect(county.locator("option", has_text="天山区")).to_have_count(1)
        county.select_option(label="天山区")

        page.get_by_role("button", name="提交订单").tap()
        page.wait_for_url("**/orders/*")
        expect(page.locator("main")).to_contain_text("新疆维吾尔自治区乌鲁木齐市天山区")
        page.screenshot(path=str(artifacts / "address-xinjiang-order.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(artifacts / "address-choice-failure.png"), full_page=True)
        raise
    assert problems == []


def test_phone_without_javascript_steps_to_beijing_chaoyang(live_server, live_app, shop,
                                                            chromium, artifacts):
    """The same choice with JavaScript off: "选择下一级" asks the server for the next level."""
    from playwright.sync_api import expect

    from tests.browser.conftest import PHONE

    with live_app.app_context():
        make_national_regions(db.session)
        make_user(db.session, "buyer", login="beijing@example.test")
        db.session.commit()
    context = chromium.new_context(**PHONE, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.locator("input[name=login]").fill("beijing@example.test")
        page.locator("input[name=password]").fill(PASSWORD)
        page.locator("form button[type=submit]", has_text="登录").tap()
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/products/{shop.tea.id}")
        page.get_by_role("button", name="加入购物车").tap()
        page.wait_for_url("**/cart")
        page.get_by_role("link", name="去结算").tap()
        page.wait_for_url("**/checkout")
        page.locator("input[name=recipient]").fill("王小红")
        page.locator("input[name=mobile]").fill("13912345678")
        page.locator("input[name=detail]").fill("建国路 88 号")
        page.locator("select[name=province]").select_option(label="北京市")
        page.get_by_role("button", name="选择下一级").tap()
        page.wait_for_load_state()
        expect(page.locator("select[name=city]")).to_have_value("1101")
        expect(page.locator("input[name=recipient]")).to_have_value("王小红")
        page.locator("select[name=region_code]").select_option(label="朝阳区")
        page.screenshot(path=str(artifacts / "address-nojs-beijing.png"), full_page=True)
        page.get_by_role("button", name="提交订单").tap()
        page.wait_for_url("**/orders/*")
        expect(page.locator("main")).to_contain_text("北京市朝阳区")
    except Exception:
        page.screenshot(path=str(artifacts / "address-nojs-failure.png"), full_page=True)
        raise
    finally:
        context.close()
