"""axe-core in a real Chromium over the pages people use, on a phone and on a desktop:
0 critical and 0 serious violations (WCAG 2.1 A/AA rules and axe's best practices).

Pages: home, catalogue, product, cart, checkout, an order, 我的帮扶, the seller console, the
office overview and the liaison's list. axe-core is a vendored test asset
(tests/browser/vendor/axe-core); it is injected with the context's CSP bypass, since the site's
own policy rightly refuses a script it did not serve. The violations found are written to
test-artifacts/axe-<viewport>.json for CI."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.orders import services as orders
from marketplace.orders.services import AddressInput, LineInput
from marketplace.regions.models import Region
from tests.fixtures.factories import PASSWORD, make_household, make_user

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
SEVERE = ("critical", "serious")


def _people(app, shop):
    """A buyer with an unpaid order and a cart line, the seller's staff, a liaison with a
    household, and the county office."""
    with app.app_context():
        session = db.session
        session.expire_on_commit = False
        buyer = make_user(session, Role.buyer, login="a11y-buyer@example.test")
        staff = make_user(session, Role.buyer, Role.seller_staff, login="a11y-staff@example.test",
                          seller=session.merge(shop.seller))
        liaison = make_user(session, Role.liaison, login="a11y-liaison@example.test")
        make_household(session, name="王建国", liaison=liaison)
        county = session.scalar(db.select(Region).where(Region.code == "430525"))
        make_user(session, Role.office, login="a11y-office@example.test", region_obj=county)
        placed = orders.checkout(
            session, buyer, [LineInput(shop.tea.id, 1)],
            AddressInput("王小红", "13912345678", "430525", "卢峰镇 8 号"),
            idempotency_key="a11y-order-1")
        session.commit()
        order_id = placed[0].id
        return {"order": order_id, "buyer": buyer.email, "staff": staff.email,
                "liaison": liaison.email, "office": "a11y-office@example.test"}


def _login(page, base: str, login: str) -> None:
    page.goto(base + "/login")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)


def _axe(page) -> list[dict]:
    page.evaluate(AXE)  # defines window.axe
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' +
                                           (n.failureSummary || '').slice(0, 200))}));
    }""")
    return result


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_no_serious_accessibility_violation(chromium, live_server, live_app, shop, artifacts,
                                            viewport):
    people = _people(live_app, shop)
    base = live_server.url
    pages = [
        (None, "/", "home"), (None, "/products", "catalogue"),
        (None, f"/products/{shop.tea.id}", "product"),
        (None, "/where-money-goes", "where-money-goes"),
        ("buyer", f"/orders/{people['order']}", "order"), ("buyer", "/cart", "cart"),
        ("buyer", "/checkout", "checkout"), ("buyer", "/my-help", "my-help"),
        ("staff", "/seller", "seller-console"), ("staff", "/seller/orders", "seller-orders"),
        ("office", "/office", "office"), ("liaison", "/liaison", "liaison"),
    ]
    found: dict[str, list] = {}
    severe: list[str] = []
    contexts = {}
    try:
        for who, path, name in pages:
            if who not in contexts:
                contexts[who] = chromium.new_context(bypass_csp=True, locale="zh-CN",
                                                     timezone_id="Asia/Shanghai",
                                                     **VIEWPORTS[viewport])
                if who:
                    _login(contexts[who].new_page(), base, people[who])
                    if who == "buyer":  # a line in the cart, for the cart and checkout pages
                        page = contexts[who].new_page()
                        page.goto(f"{base}/products/{shop.fruit.id}")
                        page.locator("form[action$='/cart/add'] button[type=submit]").first.click()
                        page.wait_for_load_state()
            page = contexts[who].new_page()
            response = page.goto(base + path)
            assert response.status < 400, (path, response.status)
            assert page.url.split("?")[0] == base + path, (path, page.url)  # not the login
            page.wait_for_load_state("networkidle")
            violations = _axe(page)
            found[name] = violations
            severe += [f"{name} {path}: {v['id']} ({v['impact']}) {v['help']} {v['nodes']}"
                       for v in violations if v["impact"] in SEVERE]
            page.screenshot(path=str(artifacts / f"a11y-{viewport}-{name}.png"), full_page=True)
    finally:
        for context in contexts.values():
            context.close()
        (artifacts / f"axe-{viewport}.json").write_text(
            json.dumps(found, ensure_ascii=False, indent=1), encoding="utf-8")
    assert severe == [], "\n".join(severe)
