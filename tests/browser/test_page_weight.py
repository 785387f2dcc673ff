"""Light on a phone: home, catalogue and product each transfer at most 120 KB on a first visit
(an empty cache: the page, its CSS, scripts, pictures and icons), compressed. The figures are
printed (and kept in test-artifacts/page-weight.json for CI)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from marketplace.accounts.models import RoleGrant, User
from marketplace.catalog import services as catalog
from marketplace.extensions import db
from tests.browser.conftest import PHONE, picture
from tests.fixtures.factories import make_product

pytestmark = pytest.mark.browser

LIMIT = 120 * 1024


def _first_visit(chromium, url: str) -> dict:
    """Bytes on the wire for one page load in a fresh context: headers and (compressed)
    bodies of every response, and what was compressed."""
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    responses = []
    page.on("requestfinished", lambda request: responses.append(request))
    try:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        total, parts = 0, []
        for request in responses:
            sizes = request.sizes()
            wire = sizes["responseBodySize"] + sizes["responseHeadersSize"]
            response = request.response()
            encoding = response.header_value("content-encoding") if response else None
            total += wire
            parts.append({"url": request.url.split("//", 1)[-1].split("/", 1)[-1],
                          "bytes": wire, "encoding": encoding or ""})
        return {"bytes": total, "parts": parts}
    finally:
        context.close()


def _full_page_of_products(app, shop) -> None:
    """21 more products with a picture each: the catalogue's first page is full (24), as in the
    demo, so the lazy loading of its pictures is what is measured."""
    with app.app_context():
        staff = db.session.scalar(select(User).join(User.grants).where(
            RoleGrant.seller_id == shop.seller.id))
        seller = db.session.merge(shop.seller)
        for n in range(21):
            product = make_product(db.session, seller, name=f"高山茶 {n}", price_fen=5000 + n)
            catalog.add_images(db.session, staff, product, [catalog.UploadedImage(
                f"w{n}.jpg", picture((40 + 7 * n, 120, 60)))])
        db.session.commit()


def test_first_visits_are_light(chromium, live_server, live_app, shop, artifacts):
    _full_page_of_products(live_app, shop)
    pages = {"home": "/", "catalogue": "/products",
             "product": f"/products/{shop.tea.id}"}
    figures = {name: _first_visit(chromium, live_server.url + path)
               for name, path in pages.items()}
    (artifacts / "page-weight.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    for name, figure in figures.items():
        print(f"{name}: {figure['bytes'] / 1024:.1f} KB in {len(figure['parts'])} responses")
        for part in figure["parts"]:
            print(f"    {part['bytes'] / 1024:7.1f} KB  {part['encoding'] or '-':4}  /{part['url']}")
    heavy = {name: f["bytes"] for name, f in figures.items() if f["bytes"] > LIMIT}
    assert heavy == {}
    # the HTML, CSS and scripts travel compressed
    for figure in figures.values():
        for part in figure["parts"]:
            if part["url"].endswith((".css", ".js")) or "." not in part["url"].rsplit("/", 1)[-1]:
                if part["bytes"] > 1024:
                    assert part["encoding"] in ("gzip", "br", "zstd", "deflate"), part
