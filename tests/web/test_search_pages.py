"""Search through the web catalogue and the API: same products in the same order, highlighting,
facets, suggestions, junk input, delist visibility, and the database fallback."""
from __future__ import annotations

import re

import pytest

from marketplace.catalog.models import ProductStatus
from marketplace.extensions import db
from marketplace.search import search_root, service
from marketplace.search.engine import SearchRequest
from tests.fixtures.factories import make_product, make_seller


@pytest.fixture
def shop(app, make):
    def build(session):
        gulou = make_seller(session, name="湖南古楼雪峰云雾茶有限公司")
        xupu = make_seller(session, name="溆浦县枣子协会", region_code="431224")
        ids = {
            "yunwu": make_product(session, gulou, name="雪峰云雾茶·明前特级绿茶").id,
            "maojian": make_product(session, gulou, name="雪峰高山毛尖", stock=0).id,
            "zao": make_product(session, xupu, name="溆浦鹤珠红枣", category_slug="jujube",
                                origin_code="431224210201", price_fen=6800).id,
        }
        staff = None
        return ids, staff
    ids, _ = make(build)
    with app.app_context():
        service.reindex(db.session, search_root())
    return ids



def card_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="card product-card" href="/products/(\d+)"', html)]


@pytest.mark.parametrize("q", ["茶", "雪峰", "溆浦", "chaye", "溆浦 枣", "云雾茶"])
def test_web_and_api_answer_the_same(client, shop, q):
    html = client.get("/products", query_string={"q": q}).get_data(as_text=True)
    api = client.get("/api/v1/products", query_string={"q": q}).get_json()
    assert card_ids(html) == [item["id"] for item in api["items"]]
    assert api["total"] == len(api["items"]) > 0


def test_results_are_highlighted_with_facets(client, shop):
    html = client.get("/products?q=云雾茶").get_data(as_text=True)
    assert "<mark>云雾茶</mark>" in html
    html = client.get("/products?q=yunwu").get_data(as_text=True)  # pinyin marks the word
    assert "<mark>云雾</mark>" in html
    html = client.get("/products?q=雪峰").get_data(as_text=True)
    assert "洞口县" in html and 'class="chips chips-scroll facets"' in html


def test_in_stock_first_and_filters_combine(client, shop):
    html = client.get("/products?q=雪峰").get_data(as_text=True)
    assert card_ids(html) == [shop["yunwu"], shop["maojian"]]
    html = client.get("/products?q=雪峰&in_stock=1").get_data(as_text=True)
    assert card_ids(html) == [shop["yunwu"]]
    html = client.get("/products?q=雪峰&category=jujube").get_data(as_text=True)
    assert card_ids(html) == []
    html = client.get("/products?q=溆浦&sort=price_asc&region=431224").get_data(as_text=True)
    assert card_ids(html) == [shop["zao"]]


def test_no_result_suggests_categories(client, shop):
    html = client.get("/products?q=榴莲").get_data(as_text=True)
    assert card_ids(html) == []
    assert "/products?category=tea" in html


@pytest.mark.parametrize("q", ['"', "*", "AND(", "OR", "😀", "茶" * 10_000, "<script>"])
def test_junk_queries_never_break_the_page(client, shop, q):
    assert client.get("/products", query_string={"q": q}).status_code == 200
    assert client.get("/api/v1/products", query_string={"q": q}).status_code == 200


def test_delisted_product_is_gone_once_the_request_answered(app, client, make, shop):
    from marketplace.accounts.models import Role
    from marketplace.catalog.models import Product
    from marketplace.sellers.models import Seller
    from tests.fixtures.factories import make_user

    def staff_of_gulou(session):
        seller = session.query(Seller).filter_by(name="湖南古楼雪峰云雾茶有限公司").one()
        from marketplace.accounts.services import grant_role
        user = make_user(session, Role.buyer, login="gulou@example.com")
        grant_role(session, user, Role.seller_staff, seller_id=seller.id)
    make(staff_of_gulou)
    client.login("gulou@example.com")
    assert shop["yunwu"] in card_ids(client.get("/products?q=云雾茶").get_data(as_text=True))
    resp = client.post_form(f"/seller/products/{shop['yunwu']}/delist", {})
    assert resp.status_code in (302, 303)
    # the index itself no longer has it (not only the database check of visibility)
    with app.app_context():
        ids = service.search(search_root(), SearchRequest(q="云雾茶")).ids
    assert shop["yunwu"] not in ids
    assert shop["yunwu"] not in card_ids(client.get("/products?q=云雾茶").get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Product, shop["yunwu"]).status == ProductStatus.delisted


def test_without_an_index_the_database_answers(client, app, shop, caplog):
    import shutil
    shutil.rmtree(search_root(app))
    service.forget(search_root(app))
    html = client.get("/products?q=雪峰").get_data(as_text=True)
    assert set(card_ids(html)) == {shop["yunwu"], shop["maojian"]}  # LIKE over names
    assert "search index unavailable" in caplog.text
