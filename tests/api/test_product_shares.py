"""households_share_bp and households_share_estimate in GET /api/v1/products and
/api/v1/products/{id} (and the seller's answers, which extend them): the share the posting rule
uses and what one unit paid now gives households; a page reads them in one query."""
from __future__ import annotations

from datetime import date

from sqlalchemy import event

from marketplace.catalog.models import Product
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.ledger.models import SupplyLot
from marketplace.sellers.models import Seller, SellerKind
from tests.fixtures.factories import make_cooperative


def money(fen):
    return {"amount": fen, "currency": "CNY"}


def test_items_and_detail_carry_the_share_and_the_estimate(api, make):
    coop = make(lambda s: make_cooperative(s, first=600, weights=(1, 1), share_bp=3000)[0])
    tea = make.product(coop, name="合作社云雾茶", price_fen=3900)
    own = make.product(coop, name="合作社红米", price_fen=1001)

    def set_share(session):
        session.get(Product, own.id).household_share_bp = 3333
    make(set_share)
    nobody = make.product(make.seller(name="无成员合作社"), name="无人受益的茶", price_fen=5000)
    items = {i["id"]: i for i in api.get("/api/v1/products").get_json()["items"]}
    assert (items[tea.id]["households_share_bp"], items[tea.id]["households_share_estimate"]) \
        == (3000, money(1170))
    assert (items[own.id]["households_share_bp"], items[own.id]["households_share_estimate"]) \
        == (3333, money(1001 * 3333 // 10000))
    assert items[nobody.id]["households_share_estimate"] == money(0)  # no households to give to
    detail = api.get(f"/api/v1/products/{tea.id}").get_json()
    assert (detail["households_share_bp"], detail["households_share_estimate"]) \
        == (3000, money(1170))


def test_a_lot_backed_product_is_estimated_from_its_lots(api, make):
    firm = make.seller(kind=SellerKind.enterprise, name="古楼茶油公司")
    oil = make.product(firm, name="山茶油", price_fen=10000)

    def terms(session):
        session.get(Seller, firm.id).household_share_bp = 1500
    make(terms)
    url = f"/api/v1/products/{oil.id}"
    assert api.get(url).get_json()["households_share_estimate"] == money(0)  # no lots yet
    household = make.household(n=610)

    def lot(session):
        session.add(SupplyLot(seller_id=firm.id, product_id=oil.id, household_id=household.id,
                              quantity=1, remaining=1, unit_price_fen=4000,
                              purchased_on=date.today(), created_at=now_utc()))
    make(lot)
    body = api.get(url).get_json()
    assert (body["households_share_bp"], body["households_share_estimate"]) \
        == (1500, money(1500))


def test_the_sellers_answer_has_them_too(api, make):
    coop = make(lambda s: make_cooperative(s, first=620, share_bp=2000)[0])
    tea = make.product(coop, name="茶", price_fen=5000)
    _staff, headers = api.staff_headers(coop)
    body = api.patch(f"/api/v1/seller/products/{tea.id}", json={"description": "新茶"},
                     headers=headers).get_json()
    assert (body["households_share_bp"], body["households_share_estimate"]) \
        == (2000, money(1000))


def test_a_page_reads_the_shares_in_one_query(api, make, app):
    """The list's statements do not grow with the page: 24 products cost what 2 cost."""
    coop = make(lambda s: make_cooperative(s, first=630)[0])
    shop = make.seller(kind=SellerKind.household_shop, name="农户小店",
                       household=make.household(n=640))
    firm = make.seller(kind=SellerKind.enterprise, name="带农企业甲")
    for i in range(24):
        make.product([coop, shop, firm][i % 3], name=f"商品{i}")

    def statements(url):
        seen = []
        with app.app_context():
            engine = db.engine

        def listener(*_args):
            seen.append(1)
        event.listen(engine, "before_cursor_execute", listener)
        try:
            resp = api.get(url)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert resp.status_code == 200
        assert all("households_share_estimate" in i for i in resp.get_json()["items"])
        return len(seen)

    statements("/api/v1/products?per_page=2")  # warm: first-use reads
    assert statements("/api/v1/products?per_page=24") == statements("/api/v1/products?per_page=2")
