"""Under the Content-Security-Policy (scripts from files only) the pages still behave: a
confirmation is asked before removing from the cart (dismissed: nothing removed; accepted:
removed), and Chromium reports no CSP violation or script error."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_confirmations_work_under_the_csp(live_server, shop, phone, artifacts):
    from playwright.sync_api import expect

    page = phone.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text or m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    answers = iter([False, True])
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    try:
        resp = page.goto(f"{live_server.url}/products/{shop.tea.id}")
        assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        page.get_by_role("button", name="加入购物车").tap()
        page.wait_for_url("**/cart")
        expect(page.locator(".cart-line")).to_have_count(1)
        page.locator(".cart-line").get_by_role("button", name="移除").tap()
        expect(page.locator(".cart-line")).to_have_count(1)  # dismissed: still there
        page.locator(".cart-line").get_by_role("button", name="移除").tap()
        page.wait_for_load_state()
        expect(page.locator(".cart-line")).to_have_count(0)
    except Exception:
        page.screenshot(path=str(artifacts / "csp-failure.png"), full_page=True)
        raise
    assert asked == ["确定从购物车移除该商品吗？"] * 2
    assert problems == []
