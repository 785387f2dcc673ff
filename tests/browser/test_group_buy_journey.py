"""A group purchase on phones (real Chromium, SQLite): a unit admin opens a campaign with two
tiers, two members join and pay (test payment), the deadline passes (moved in the database),
the next read closes the campaign: the orders are made at the tier price reached and the fill
bar shows it. axe-core finds no serious or critical violation on the campaign page."""
from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.core.time import CHINA, now_utc
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.units.models import Campaign
from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import SEVERE, _axe
from tests.fixtures.factories import PASSWORD, make_user
from tests.fixtures.units import make_unit

pytestmark = pytest.mark.browser


def _people(app):
    with app.app_context():
        session = db.session
        session.expire_on_commit = False
        admin = make_user(session, login="gb-admin@example.test", name="单位管理员")
        members = [make_user(session, login=f"gb-member{i}@example.test", name=f"职工{i}")
                   for i in range(2)]
        make_unit(session, name="洞口县财政局", admin=admin, members=members)
        session.commit()
        return admin.email, [m.email for m in members]


def _login(page, base: str, login: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _watch(page, problems: list[str]):
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 500 else None)
    page.on("dialog", lambda dialog: dialog.accept())


def test_group_buy_on_phones(chromium, live_server, live_app, shop, artifacts):
    from playwright.sync_api import expect

    admin, members = _people(live_app)
    base = live_server.url
    problems: list[str] = []
    contexts = []

    def phone(login: str):
        context = chromium.new_context(**PHONE)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        _watch(page, problems)
        _login(page, base, login)
        return page

    page = None
    try:
        # the unit admin opens a campaign: the tea (¥128) at ¥120 from 1, ¥110 from 3
        page = phone(admin)
        page.goto(base + "/campaigns")
        page.get_by_role("link", name="发起团购").first.tap()
        page.wait_for_url("**/campaigns/new")
        page.locator("input[name=title]").fill("财政局食堂团购云雾茶")
        page.locator("select[name=product_0]").select_option(str(shop.tea.id))
        page.locator("input[name=tier_0_0_min]").fill("1")
        page.locator("input[name=tier_0_0_price]").fill("120.00")
        page.locator("input[name=tier_0_1_min]").fill("3")
        page.locator("input[name=tier_0_1_price]").fill("110.00")
        page.locator("input[name=minimum_quantity]").fill("2")
        page.locator("input[name=per_person_limit]").fill("5")
        deadline = (now_utc() + timedelta(days=2)).astimezone(CHINA)
        page.locator("input[name=deadline]").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
        page.screenshot(path=str(artifacts / "group-buy-new.png"), full_page=True)
        page.locator("form.campaign-form button[type=submit]", has_text="发起团购").tap()
        page.wait_for_url("**/campaigns/*")
        expect(page.locator("h1 .badge")).to_have_text("进行中")
        expect(page.locator(".campaign-fill")).to_contain_text("还差 2 件成团")
        expect(page.locator(".time-left")).to_contain_text("剩 1 天")
        campaign_url = page.url
        campaign_id = int(campaign_url.rstrip("/").split("/")[-1])
        assert page.locator("#share-url").input_value().startswith("http")

        # two members join and pay: 2 and 1 units
        for login, quantity in zip(members, (2, 1), strict=True):
            member = phone(login)
            member.goto(campaign_url)
            member.locator(".join-form input[name^=q_]").fill(str(quantity))
            member.locator("input[name=recipient]").fill("王小红")
            member.locator("input[name=mobile]").fill("13912345678")
            member.locator("select[name=province]").select_option("43")
            member.locator("select[name=city]").select_option("4312")
            member.locator("select[name=region_code]").select_option("431224")
            member.locator("input[name=detail]").fill("卢峰镇建设路 8 号")
            member.get_by_role("button", name="参团", exact=True).tap()
            member.wait_for_url("**/pay")
            expect(member.locator(".test-payment")).to_contain_text("测试模式")
            expect(member.locator(".price.big")).to_have_text(f"¥{120 * quantity}.00")
            member.get_by_role("button", name="付款成功", exact=True).tap()
            member.wait_for_url(campaign_url)
            expect(member.locator(".own-participation .badge")).to_have_text("已参团")
        member.screenshot(path=str(artifacts / "group-buy-joined.png"), full_page=True)
        assert member.evaluate("document.documentElement.scrollWidth") <= 390

        page.reload()
        expect(page.locator(".campaign-fill")).to_contain_text("已参团 3 件")
        expect(page.locator(".tier-table tr.reached")).to_contain_text("满 3 件")
        expect(page.locator("table.participants tbody tr")).to_have_count(2)

        # the deadline passes: the next read closes it
        with live_app.app_context():
            db.session.get(Campaign, campaign_id).deadline = now_utc() - timedelta(minutes=1)
            db.session.commit()
        page.reload()
        expect(page.locator("h1 .badge")).to_have_text("已成团")
        expect(page.locator(".time-left")).to_have_text("已截止")
        expect(page.locator(".manage")).to_contain_text("已生成 2 个订单")
        assert page.locator("progress.fill-bar").first.get_attribute("value") == "2"  # full
        page.screenshot(path=str(artifacts / "group-buy-closed.png"), full_page=True)
        page.get_by_role("link", name="团购订单").tap()
        page.wait_for_url("**/orders")
        expect(page.locator("table.campaign-orders tbody tr")).to_have_count(2)
        expect(page.locator(".campaign-orders")).to_contain_text("¥220.00")  # 2 x ¥110

        # the member sees the order at the tier price, the difference refunded
        member.reload()
        expect(member.locator(".own-participation .badge")).to_have_text("已成团")
        member.get_by_role("link", name="查看我的订单").tap()
        member.wait_for_url("**/orders/*")
        expect(member.locator("h1 .badge")).to_have_text("已付款")
        with live_app.app_context():
            totals = sorted(o.total_fen for o in db.session.scalars(
                db.select(Order).where(Order.campaign_id == campaign_id)))
        assert totals == [11000, 22000]

        # axe-core on the campaign page (the CSP bypassed to inject it)
        audit = chromium.new_context(bypass_csp=True, **PHONE)
        contexts.append(audit)
        checked = audit.new_page()
        _login(checked, base, members[0])
        checked.goto(campaign_url)
        checked.wait_for_load_state("networkidle")
        severe = [f"{v['id']} ({v['impact']}) {v['help']} {v['nodes']}"
                  for v in _axe(checked) if v["impact"] in SEVERE]
        assert severe == [], "\n".join(severe)
    except Exception:
        if page is not None:
            page.screenshot(path=str(artifacts / "group-buy-failure.png"), full_page=True)
        raise
    finally:
        for context in contexts:
            context.close()
    assert problems == []
