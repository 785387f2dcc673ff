"""A micro-wish on a phone (issue 18, point 9): the liaison prints the village's wish cards (one
A6 page each) and the wall sheet (A4); a donor opens a card's link, signs in, comes back,
claims the wish and records the delivery; the liaison signs in and confirms receipt; the wish
shows fulfilled. axe-core finds no serious or critical violation on the pages (real Chromium,
SQLite)."""
from __future__ import annotations

import re

import pytest

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.help.needs import rules, services
from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import SEVERE, _axe
from tests.fixtures.factories import PASSWORD, make_household, make_user, region

pytestmark = pytest.mark.browser

VILLAGE = "430525101201"  # 洞口县月溪镇洪溪村
A6, A4 = (298.1, 420.0), (595.0, 841.9)  # paper sizes in points, as Chromium's PDF has them


def _wishes(app) -> list[int]:
    """Two open wishes of 洪溪村 posted by the liaison and approved by the county office."""
    with app.app_context():
        session = db.session
        liaison = make_user(session, Role.liaison, login="wish-liaison@example.test",
                            name="联络人")
        office = make_user(session, Role.office, login="wish-office@example.test",
                           region_obj=region(session, "430525"))
        make_user(session, Role.buyer, login="wish-donor@example.test", name="爱心人士")
        ids = []
        for name, title, who in (("张三明", "一个新书包和一套文具", "孙女，8岁"),
                                 ("李四", "一副老花镜", "爷爷，72岁")):
            household = make_household(session, name=name, liaison=liaison)
            need = services.post(session, liaison, household, rules.NeedInput(
                kind="wish", category="education", title=title, what="items",
                items=[{"name": title[2:], "quantity": 1, "unit": ""}], amount_fen=12000,
                beneficiary=who, description="由帮扶联络人代为发布"))
            services.review(session, office, need, "approve")
            ids.append(need.id)
        session.commit()
        return ids


def _sign_in(page, login: str) -> None:
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]", has_text="登录").tap()


def _pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The size of every page of a PDF Chromium printed, in points."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(round(float(w), 1), round(float(h), 1)) for w, h in boxes]


def _page_sizes(page) -> list[str]:
    """The paper sizes the page's stylesheets ask for (@page rules)."""
    rules = page.evaluate("""() => [...document.styleSheets].flatMap(sheet =>
        [...sheet.cssRules].filter(r => r instanceof CSSPageRule).map(r => r.cssText))""")
    return [m.group(1) for r in rules if (m := re.search(r"size:\s*([^;]+);", r))]


def _boxes(page, selector: str) -> list[tuple[int, int, str]]:
    """Width and height in millimetres and the page break after, of each element."""
    found = page.evaluate("""(sel) => [...document.querySelectorAll(sel)].map(el => {
        const box = el.getBoundingClientRect();
        return [box.width * 25.4 / 96, box.height * 25.4 / 96, getComputedStyle(el).breakAfter];
    })""", selector)
    return [(round(w), round(h), brk) for w, h, brk in found]


def _watch(page, problems: list[str]) -> None:
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 500 else None)


def test_a_wish_card_claimed_on_a_phone_and_confirmed(chromium, live_server, live_app, phone,
                                                      artifacts):
    from playwright.sync_api import expect

    bag, _glasses = _wishes(live_app)
    base = live_server.url
    problems: list[str] = []
    liaison_ctx = chromium.new_context(**PHONE)
    audit_ctx = chromium.new_context(bypass_csp=True, **PHONE)  # to inject axe-core
    liaison = liaison_ctx.new_page()
    donor = phone.new_page()
    for page in (liaison, donor):
        _watch(page, problems)
    severe: list[str] = []
    try:
        # the liaison prints the village's cards: one A6 page each, and the A4 wall sheet
        liaison.goto(f"{base}/login")
        _sign_in(liaison, "wish-liaison@example.test")
        liaison.wait_for_url(lambda url: "/login" not in url)
        liaison.goto(f"{base}/wishes/print")
        liaison.get_by_role("link", name="心愿卡（A6）").tap()
        liaison.wait_for_url(f"**/villages/{VILLAGE}/wishes/cards")
        expect(liaison.locator(".wish-card")).to_have_count(2)
        expect(liaison.locator(".wish-card svg.qr-code")).to_have_count(2)
        liaison.screenshot(path=str(artifacts / "wish-cards.png"), full_page=True)
        # in print: A6 paper, each card fills one sheet (105 x 147 mm) and breaks the page
        # after it; printed to PDF, two cards are two A6 pages, the wall one A4 page
        liaison.emulate_media(media="print")
        assert _page_sizes(liaison) == ["105mm 148mm"]
        assert _boxes(liaison, ".wish-card") == [(105, 147, "page"), (105, 147, "auto")]
        assert _pdf_pages(liaison.pdf(prefer_css_page_size=True)) == [A6, A6]
        liaison.goto(f"{base}/villages/{VILLAGE}/wishes/wall")
        expect(liaison.locator(".wish-tile")).to_have_count(2)
        assert _page_sizes(liaison) == ["a4"]
        assert _pdf_pages(liaison.pdf(prefer_css_page_size=True)) == [A4]
        liaison.emulate_media(media="screen")
        liaison.goto(f"{base}/wishes/{bag}/card")
        link = liaison.locator(".wish-card-url").inner_text().strip()
        assert link == f"{base}/wishes/{bag}"

        # a donor opens the card's link on a phone, signs in and comes back, claims it
        donor.goto(link)
        expect(donor.locator("h1")).to_have_text("一个新书包和一套文具")
        expect(donor.locator(".wish-state")).to_have_text("待认领")
        expect(donor.locator("main")).to_contain_text("张*明")
        expect(donor.locator("main")).not_to_contain_text("张三明")
        assert donor.evaluate("document.documentElement.scrollWidth") <= 390
        donor.screenshot(path=str(artifacts / "wish-phone-open.png"), full_page=True)
        donor.get_by_role("link", name="登录后认领").tap()
        donor.wait_for_url("**/login**")
        _sign_in(donor, "wish-donor@example.test")
        donor.wait_for_url(f"**/wishes/{bag}")
        donor.get_by_role("button", name="认领这个心愿").tap()
        donor.wait_for_url(f"**/wishes/{bag}")
        expect(donor.locator(".flash")).to_contain_text("心愿已认领")
        expect(donor.locator(".wish-state")).to_have_text("已认领")
        donor.get_by_label("送达情况（可选）").fill("书包和文具已送到村委会")
        donor.get_by_role("button", name="我已送达").tap()
        donor.wait_for_url(f"**/wishes/{bag}")
        expect(donor.locator(".flash")).to_contain_text("等待帮扶联络人确认收到")

        # the liaison confirms receipt on the wish's page
        liaison.goto(f"{base}/wishes/{bag}")
        expect(liaison.locator("main")).to_contain_text("书包和文具已送到村委会")
        liaison.get_by_label("收到情况（可选）").fill("孩子很喜欢")
        liaison.get_by_role("button", name="确认收到").tap()
        liaison.wait_for_url(f"**/wishes/{bag}")
        expect(liaison.locator(".wish-state")).to_have_text("已完成")

        # the wish shows fulfilled, to the donor and to anyone
        donor.reload()
        expect(donor.locator(".wish-state")).to_have_text("已完成")
        expect(donor.locator(".wish-done")).to_contain_text("心愿已实现")
        donor.screenshot(path=str(artifacts / "wish-phone-fulfilled.png"), full_page=True)

        # axe-core: the phone page (signed out, then as the liaison), the cards, the wall
        audit = audit_ctx.new_page()
        checks = [f"/wishes/{bag}", f"/wishes/{_glasses}"]
        for path in checks:
            audit.goto(base + path)
            severe += [f"{path}: {v['id']} ({v['impact']}) {v['help']} {v['nodes']}"
                       for v in _axe(audit) if v["impact"] in SEVERE]
        audit.goto(f"{base}/login")
        _sign_in(audit, "wish-liaison@example.test")
        audit.wait_for_url(lambda url: "/login" not in url)
        for path in (f"/wishes/{_glasses}", f"/villages/{VILLAGE}/wishes/cards",
                     f"/villages/{VILLAGE}/wishes/wall", "/wishes/print"):
            audit.goto(base + path)
            severe += [f"{path}: {v['id']} ({v['impact']}) {v['help']} {v['nodes']}"
                       for v in _axe(audit) if v["impact"] in SEVERE]
    except Exception:
        donor.screenshot(path=str(artifacts / "wish-journey-failure.png"), full_page=True)
        liaison.screenshot(path=str(artifacts / "wish-journey-liaison-failure.png"),
                           full_page=True)
        raise
    finally:
        liaison_ctx.close()
        audit_ctx.close()
    assert severe == [], "\n".join(severe)
    assert problems == []
