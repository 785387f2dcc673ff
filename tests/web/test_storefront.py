"""The public storefront through the test client: home, catalogue filters, product, seller and
region pages, visibility rules and the language switch (each test runs on both engines)."""
from __future__ import annotations

import re

import pytest

from marketplace.catalog.models import ProductStatus
from marketplace.sellers.models import SellerKind, SellerStatus

HONGXI = "430525101201"  # 洪溪村, 月溪镇, 洞口县
CAOJIAXI = "431224210201"  # 曹家溪村, 舒溶溪乡, 溆浦县


def page(client, url: str, status: int = 200) -> str:
    resp = client.get(url)
    assert resp.status_code == status, (url, resp.status_code)
    return resp.get_data(as_text=True)


def order_of(html: str, *names: str) -> list[str]:
    return sorted(names, key=html.index)


def product_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="card product-card" href="/products/(\d+)"', html)]


def test_home_shows_categories_featured_regions_and_stats(client, make):
    seller = make.seller(name="湖南古楼雪峰云雾茶有限公司")
    make.product(seller, name="雪峰云雾茶 特级")
    make.household()
    html = page(client, "/")
    assert "以购代捐" in html
    assert "茶叶" in html and "/products?category=tea" in html
    assert "雪峰云雾茶 特级" in html  # featured
    assert "洞口县" in html and "/regions/430525" in html  # regions with counts
    assert re.search(r"<b>1</b>\s*在售商品", html)
    assert re.search(r"<b>1</b>\s*认证商家", html)
    assert re.search(r"<b>1</b>\s*登记帮扶农户", html)


def test_home_works_on_an_empty_database(client):
    html = page(client, "/")
    assert "还没有上架的商品" in html


def test_catalogue_filters_by_category(client, make):
    seller = make.seller()
    make.product(seller, name="高山绿茶", category_slug="tea")
    make.product(seller, name="溆浦红枣", category_slug="jujube")
    html = page(client, "/products?category=jujube")
    assert "溆浦红枣" in html and "高山绿茶" not in html
    assert "共 1 件商品" in html
    assert re.search(r'class="chip active"\s+href="/products\?category=jujube"', html)


def test_catalogue_region_filter_matches_the_subtree(client, make):
    seller = make.seller()
    make.product(seller, name="洪溪村茶", origin_code=HONGXI)
    make.product(seller, name="曹家溪村枣", origin_code=CAOJIAXI, category_slug="jujube")
    dongkou = page(client, "/products?region=430525")  # county
    assert "洪溪村茶" in dongkou and "曹家溪村枣" not in dongkou
    xupu = page(client, "/products?region=431224")
    assert "洪溪村茶" not in xupu and "曹家溪村枣" in xupu
    town = page(client, "/products?region=430525101")  # township, not in the county select
    assert "洪溪村茶" in town and "月溪镇" in town
    hunan = page(client, "/products?region=43")
    assert "洪溪村茶" in hunan and "曹家溪村枣" in hunan


def test_catalogue_price_range_is_in_yuan(client, make):
    seller = make.seller()
    make.product(seller, name="便宜的米", price_fen=1990)  # ¥19.90
    make.product(seller, name="中等的茶", price_fen=5000)  # ¥50.00
    make.product(seller, name="贵的菌", price_fen=25800)  # ¥258.00
    html = page(client, "/products?min_price=19.90&max_price=50")
    assert "便宜的米" in html and "中等的茶" in html and "贵的菌" not in html
    html = page(client, "/products?min_price=20")
    assert "便宜的米" not in html and "中等的茶" in html and "贵的菌" in html
    assert 'name="min_price" value="20.00"' in html
    # reversed bounds are swapped rather than matching nothing
    html = page(client, "/products?min_price=60&max_price=20")
    assert "中等的茶" in html and "贵的菌" not in html and "便宜的米" not in html


def test_catalogue_in_stock_filter(client, make):
    seller = make.seller()
    make.product(seller, name="有货的茶", stock=5)
    make.product(seller, name="卖完的茶", stock=0)
    html = page(client, "/products")
    assert "有货的茶" in html and "卖完的茶" in html and "已售罄" in html
    html = page(client, "/products?in_stock=1")
    assert "有货的茶" in html and "卖完的茶" not in html


def test_catalogue_sorts_by_price(client, make):
    seller = make.seller()
    make.product(seller, name="中价茶", price_fen=5000)
    make.product(seller, name="低价茶", price_fen=1000)
    make.product(seller, name="高价茶", price_fen=9000)
    html = page(client, "/products?sort=price_asc")
    assert order_of(html, "中价茶", "低价茶", "高价茶") == ["低价茶", "中价茶", "高价茶"]
    html = page(client, "/products?sort=price_desc")
    assert order_of(html, "中价茶", "低价茶", "高价茶") == ["高价茶", "中价茶", "低价茶"]
    assert '<option value="price_desc" selected>' in html


def test_catalogue_paginates(app, client, make):
    app.config["PER_PAGE"] = 3

    def seven(session):
        from tests.fixtures.factories import make_product, make_seller
        seller = make_seller(session)
        return [make_product(session, seller, name=f"分页商品{i}", price_fen=1000 + i).id
                for i in range(7)]

    ids = make(seven)
    first = page(client, "/products?sort=price_asc")
    assert "共 7 件商品" in first and "第 1 / 3 页" in first
    assert product_ids(first) == ids[:3]
    assert 'href="/products?sort=price_asc&amp;page=2" rel="next"' in first
    second = page(client, "/products?sort=price_asc&page=2")
    assert product_ids(second) == ids[3:6]
    assert 'rel="prev"' in second and 'rel="next"' in second
    third = page(client, "/products?sort=price_asc&page=3")
    assert product_ids(third) == ids[6:]
    assert 'rel="next"' not in third
    beyond = page(client, "/products?sort=price_asc&page=9")
    assert product_ids(beyond) == [] and "回到最后一页" in beyond


@pytest.mark.parametrize("query", [
    "page=-1", "page=abc", "page=0", "page=99999999999999999999", "min_price=abc",
    "max_price=-5", "min_price=1e9", "sort=bogus", "region=abc", "region=999999",
    "category=nope", "seller=x", "seller=99999", "in_stock=maybe", "per_page=100000",
    "img=1",
])
def test_bad_filter_values_are_ignored(client, make, query):
    make.product(name="好茶")
    html = page(client, f"/products?{query}")
    assert "好茶" in html  # the bad value is ignored, not applied


def test_empty_result_suggests_categories(client, make):
    make.product(name="好茶", category_slug="tea")
    html = page(client, "/products?q=不存在的东西")
    assert "没有找到符合条件的商品" in html
    assert "看看这些分类" in html and 'href="/products?category=tea"' in html


def test_search_wildcards_are_literal(client, make):
    make.product(name="好茶")
    for q in ("%25", "_", "%5C"):
        html = page(client, f"/products?q={q}")
        assert "好茶" not in html and "没有找到符合条件的商品" in html


def test_search_matches_name_and_seller(client, make):
    seller = make.seller(name="溆浦县枣子产业协会")
    make.product(seller, name="鲜枣", category_slug="jujube")
    make.product(name="绿茶")
    html = page(client, "/products?q=枣子产业")
    assert "鲜枣" in html and "绿茶" not in html
    assert "搜索“枣子产业”" in html


def test_product_page_shows_breadcrumb_seller_and_cart_form(client, make):
    seller = make.seller(name="洞口县古楼茶叶合作社")
    product = make.product(seller, name="雪峰毛尖", spec="250g/罐", price_fen=12800,
                           description="第一行 <b>粗</b>\n第二行")
    html = page(client, f"/products/{product.id}")
    for name in ("湖南省", "邵阳市", "洞口县", "月溪镇", "洪溪村"):
        assert name in html
    for code in ("43", "4305", "430525", "430525101", HONGXI):
        assert f'href="/regions/{code}"' in html
    assert "雪峰毛尖" in html and "250g/罐" in html and "¥128.00" in html
    assert "库存 50 件" in html
    assert f'href="/sellers/{seller.id}"' in html and "洞口县古楼茶叶合作社" in html
    assert "农民专业合作社" in html
    assert 'href="/products?category=tea"' in html
    assert "第一行 &lt;b&gt;粗&lt;/b&gt;\n第二行" in html  # escaped, newline kept
    assert 'action="/cart/add"' in html and f'name="product_id" value="{product.id}"' in html
    assert 'max="50"' in html  # the quantity cannot go past the stock
    assert "帮扶产品" not in html and "认定证书号" not in html


def test_certified_product_shows_the_badge_and_certificate(client, make):
    product = make.product(name="认证好茶", certified=True, stock=0)
    html = page(client, f"/products/{product.id}")
    assert "帮扶产品" in html and "湘帮扶认字2024-001" in html
    assert product.certificate_valid_until.isoformat() in html
    assert "已售罄" in html


def test_product_gallery_with_images(app, client, make):
    def with_images(session):
        from marketplace.catalog.models import ProductImage
        from tests.fixtures.factories import make_product
        product = make_product(session, name="有图的茶")
        for i in range(3):
            product.images.append(ProductImage(position=i, filename=f"big{i}.jpg",
                                               thumb_filename=f"small{i}.jpg", width=800,
                                               height=800))
        session.flush()
        return product.id

    pid = make(with_images)
    html = page(client, f"/products/{pid}")
    assert 'src="/media/big0.jpg"' in html and 'src="/media/small2.jpg"' in html
    assert 'data-large="/media/big1.jpg"' in html and "js/gallery.js" in html
    # without JavaScript, a thumbnail link shows that image large
    html = page(client, f"/products/{pid}?img=2")
    assert 'src="/media/big2.jpg"' in html and 'src="/media/big0.jpg"' not in html
    html = page(client, f"/products/{pid}?img=7")
    assert 'src="/media/big0.jpg"' in html
    listing = page(client, "/products")
    assert 'src="/media/small0.jpg"' in listing


@pytest.mark.parametrize("case", ["draft", "pending", "rejected", "delisted", "seller_pending",
                                  "seller_suspended"])
def test_hidden_products_answer_404_and_are_not_listed(client, make, case):
    if case.startswith("seller_"):
        seller = make.seller(status=SellerStatus(case.removeprefix("seller_")))
        hidden = make.product(seller, name="看不见的茶")
    else:
        hidden = make.product(name="看不见的茶", status=ProductStatus(case))
    make.product(name="看得见的茶")
    assert page(client, f"/products/{hidden.id}", 404)
    for url in ("/products", "/products?q=茶", "/", "/regions/430525", "/products?category=tea"):
        html = page(client, url)
        assert "看不见的茶" not in html and "看得见的茶" in html, url
    if case.startswith("seller_"):
        page(client, f"/sellers/{hidden.seller_id}", 404)
        assert "看不见的茶" not in page(client, f"/products?seller={hidden.seller_id}")


def test_unknown_product_is_404_in_chinese(client):
    html = page(client, "/products/987654", 404)
    assert "返回首页" in html


def test_seller_page_lists_its_products_and_member_count(client, make):
    def cooperative(session):
        from tests.fixtures.factories import make_household, make_seller
        members = [(make_household(session, name="王大明"), 1),
                   (make_household(session, name="李小红"), 2)]
        return make_seller(session, name="洞口县云雾茶合作社", members=members)

    coop = make(cooperative)
    make.product(coop, name="合作社的茶")
    make.product(name="别家的茶")
    html = page(client, f"/sellers/{coop.id}")
    assert "洞口县云雾茶合作社" in html and "农民专业合作社" in html
    assert "2 户帮扶农户" in html
    assert "合作社的茶" in html and "别家的茶" not in html
    assert "王大明" not in html and "李小红" not in html and "王*明" not in html
    assert "13800138000" not in html  # contact data stays private


def test_seller_page_of_household_shop_has_no_member_count(client, make):
    shop = make.seller(kind=SellerKind.household_shop, name="张家小店")
    html = page(client, f"/sellers/{shop.id}")
    assert "农户店铺" in html and "成员户" not in html


@pytest.mark.parametrize("status", [SellerStatus.pending, SellerStatus.suspended])
def test_seller_page_is_404_unless_verified(client, make, status):
    seller = make.seller(status=status)
    page(client, f"/sellers/{seller.id}", 404)


def test_seller_page_paginates(client, make):
    def many(session):
        from tests.fixtures.factories import make_product, make_seller
        seller = make_seller(session)
        for i in range(13):
            make_product(session, seller, name=f"店内商品{i}")
        return seller.id

    sid = make(many)
    first = page(client, f"/sellers/{sid}")
    assert len(product_ids(first)) == 12 and f'href="/sellers/{sid}?page=2"' in first
    assert len(product_ids(page(client, f"/sellers/{sid}?page=2"))) == 1


def test_region_page_shows_breadcrumb_children_and_subtree_products(client, make):
    seller = make.seller()
    make.product(seller, name="洪溪村茶", origin_code=HONGXI)
    make.product(seller, name="古楼村茶", origin_code="430525101202")
    make.product(seller, name="曹家溪村枣", origin_code=CAOJIAXI)
    html = page(client, "/regions/430525")
    assert 'href="/regions/43"' in html and 'href="/regions/4305"' in html
    assert re.search(r'href="/regions/430525101">月溪镇 <span class="count">2</span>', html)
    assert "洪溪村茶" in html and "古楼村茶" in html and "曹家溪村枣" not in html
    html = page(client, "/regions/4312")
    assert re.search(r'href="/regions/431224">溆浦县 <span class="count">1</span>', html)
    assert "曹家溪村枣" in html and "洪溪村茶" not in html
    village = page(client, f"/regions/{HONGXI}")
    assert "洪溪村茶" in village and "古楼村茶" not in village


@pytest.mark.parametrize("code", ["999999", "abc", "43052510120199"])
def test_region_page_is_404_for_unknown_code(client, make, code):
    make.regions()
    page(client, f"/regions/{code}", 404)


def test_language_switch_to_english_and_back(client, make):
    make.product(name="好茶")
    html = page(client, "/")
    assert '<html lang="zh-CN">' in html
    resp = client.get("/lang/en?next=/products")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/products")
    html = page(client, "/products")
    assert '<html lang="en">' in html
    assert "Tea" in html  # category names follow the language
    client.get("/lang/zh?next=/")
    html = page(client, "/")
    assert '<html lang="zh-CN">' in html and "茶叶" in html
