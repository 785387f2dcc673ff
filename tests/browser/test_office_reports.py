"""The county office on a phone: opens the report dashboard, changes the period (a preset, then
dates), sees the charts drawn under the CSP, drills down county > township > village > one
household's statement for the period, and downloads the sub-regions and summary tables as xlsx
(opened with openpyxl: the figures are the page's). axe-core finds nothing serious on the
dashboard, and the page does not scroll sideways (its tables do, inside their boxes)."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from marketplace.extensions import db
from tests.browser.test_accessibility import SEVERE, _axe, _login
from tests.web.test_reports_pages import HONGXI, TOWNSHIP, build_sales

pytestmark = pytest.mark.browser


def _yuan(text: str) -> Decimal:
    """'¥1,234.50' -> Decimal('1234.50')"""
    return Decimal(re.sub(r"[^\d.-]", "", text))


def _cell(page, row_selector: str, column: int) -> str:
    return page.locator(f"{row_selector} > :nth-child({column})").first.inner_text().strip()


def _download(page, link, artifacts, name):
    with page.expect_download() as info:
        link.click()
    path = artifacts / name
    info.value.save_as(str(path))
    return [[c.value for c in row] for row in load_workbook(path).active.iter_rows()]


def test_office_reads_its_county_on_a_phone(live_server, live_app, phone, artifacts):
    from playwright.sync_api import expect

    with live_app.app_context():
        made = build_sales(db.session)
        from marketplace.households.models import Household
        code = db.session.get(Household, made.monitored).code
    page = phone.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text or m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    base = live_server.url
    try:
        _login(page, base, "office-r@example.test")
        page.goto(base + "/office")
        page.get_by_role("link", name="帮扶成效统计").first.click()
        page.wait_for_url("**/office/reports")
        expect(page.locator("h1")).to_contain_text("洞口县")
        expect(page.locator(".as-of")).to_contain_text("数据截至")

        # the period: a preset, then dates (1 to 30 November 2026 is that month)
        page.get_by_role("link", name="上月", exact=True).click()
        page.wait_for_url(re.compile(r"period=\d{4}-\d{2}"))
        expect(page.locator(".report-presets [aria-current]")).to_have_text("上月")
        page.locator("#report-from").fill("2026-11-01")
        page.locator("#report-to").fill("2026-11-30")
        page.get_by_role("button", name="查看").click()
        page.wait_for_url(re.compile(r"to=2026-11-30"))
        expect(page.locator(".report-period")).to_have_text("2026年11月")

        # the charts are drawn (canvas), the figures are in the tables
        expect(page.locator("[data-chart][data-drawn=true]")).to_have_count(3)
        assert page.locator("[data-chart] canvas").count() >= 3
        income = _yuan(_cell(page, "tr[data-row=attributed_fen]", 2))
        offline = _yuan(_cell(page, "tr[data-row=offline_fen]", 2))
        assert income > 0 and offline == Decimal("76.00")
        township_income = _yuan(_cell(page, f"tr[data-key='{TOWNSHIP}']", 4))
        page.screenshot(path=str(artifacts / "office-reports-phone.png"), full_page=True)

        # phone first: the page itself never scrolls sideways
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        violations = [v for v in _axe(page) if v["impact"] in SEVERE]
        assert violations == [], violations

        # the sub-regions and the summary as xlsx: the page's figures
        rows = _download(page, page.locator("#regions .downloads a", has_text="Excel"),
                         artifacts, "office-regions.xlsx")
        assert "洞口县" in rows[0][0] and "2026年11月" in rows[0][0]
        mine = next(r for r in rows if r[0] == TOWNSHIP)
        assert Decimal(str(mine[5])).quantize(Decimal("0.01")) == township_income
        total = next(r for r in rows if r[1] == "合计")
        assert Decimal(str(total[5])).quantize(Decimal("0.01")) == income
        rows = _download(page, page.locator("#summary .downloads a", has_text="Excel"),
                         artifacts, "office-summary.xlsx")
        attributed = next(r for r in rows if str(r[0]).startswith("归属收入"))
        assert Decimal(str(attributed[1])).quantize(Decimal("0.01")) == income

        # drill down: township > village > household > its statement for the period
        page.locator(f"tr[data-key='{TOWNSHIP}'] a").click()
        page.wait_for_url(re.compile(f"region={TOWNSHIP}"))
        page.locator(f"tr[data-key='{HONGXI}'] a").click()
        page.wait_for_url(re.compile(f"region={HONGXI}"))
        expect(page.locator("#regions h2")).to_have_text("本村帮扶对象")
        household_income = _yuan(_cell(page, f"tr[data-key='{code}']", 4))
        assert household_income > 0
        page.locator(f"tr[data-key='{code}'] a").click()
        page.wait_for_url(re.compile(r"/households/\d+/statement\?"))
        expect(page.locator("#period h2")).to_contain_text("2026年11月")
        assert _yuan(page.locator("[data-figure=net] b").inner_text()) == household_income
        expect(page.locator("#period")).to_contain_text("洪溪土茶")
    except Exception:
        page.screenshot(path=str(artifacts / "office-reports-failure.png"), full_page=True)
        raise
    assert problems == []


def test_office_targets_and_ranks_on_a_phone(live_server, live_app, phone, artifacts):
    """The households without income (a notice to their liaisons, confirmed first) and the
    ranking (published after a confirmation, its notice downloaded), readable on a phone."""
    from playwright.sync_api import expect

    with live_app.app_context():
        build_sales(db.session)
    page = phone.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text or m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    asked: list[str] = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    base = live_server.url
    try:
        _login(page, base, "office-r@example.test")
        page.goto(base + "/office/reports?period=2026-10")
        page.get_by_role("link", name="无收入帮扶对象").click()
        page.wait_for_url(re.compile(r"/office/reports/targeting\?.*period=2026-10"))
        expect(page.locator("#targeting tbody tr")).to_have_count(3)
        assert [v for v in _axe(page) if v["impact"] in SEVERE] == []
        page.get_by_role("button", name="通知帮扶联络人").click()
        page.wait_for_load_state()
        expect(page.locator(".flash-success")).to_contain_text("已通知 1 位帮扶联络人")

        page.goto(base + f"/office/reports/ranking?region={TOWNSHIP}&period=2026-11")
        expect(page.locator(f"#ranking tr[data-key='{HONGXI}']")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert [v for v in _axe(page) if v["impact"] in SEVERE] == []
        page.get_by_label("说明（可不填）").fill("十一月考核")
        page.get_by_role("button", name="发布", exact=True).click()
        page.wait_for_load_state()
        expect(page.locator(".flash-success")).to_contain_text("第 1 版")
        rows = _download(page, page.locator("#published a", has_text="通报 Excel").first,
                         artifacts, "office-notice.xlsx")
        assert "第 1 版" in rows[0][0]
        ranked = next(r for r in rows if r[3] == HONGXI)
        rank = page.locator(f"#ranking tr[data-key='{HONGXI}'] td").first.inner_text().strip()
        assert str(ranked[0]) == rank
        page.screenshot(path=str(artifacts / "office-ranking-phone.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(artifacts / "office-ranking-failure.png"), full_page=True)
        raise
    assert len(asked) == 2 and problems == []
