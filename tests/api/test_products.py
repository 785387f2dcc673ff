"""GET /api/v1/products, /api/v1/products/{id}, /api/v1/categories."""
import pytest

from marketplace.catalog.models import ProductStatus
from marketplace.sellers.models import SellerKind, SellerStatus
from tests.api.conftest import assert_error

HONGXI = "430525101201"  # 洞口县 月溪镇 洪溪村
GULOU = "430525101202"  # 洞口县 月溪镇 古楼村
CAOJIAXI = "431224210201"  # 溆浦县 舒溶溪乡 曹家溪村


@pytest.fixture
def shelf(make):
    """Five visible products in two counties, plus three that shoppers must not see."""
    seller = make.seller(name="洞口县雪峰茶叶专业合作社")
    other = make.seller(name="溆浦县红枣合作社", region_code="431224")
    p = {
        "tea": make.product(seller, name="雪峰云雾茶", price_fen=12800, stock=50,
                            origin_code=HONGXI, certified=True),
        "black": make.product(seller, name="古楼红茶", price_fen=6800, stock=0,
                              origin_code=GULOU),
        "oil": make.product(seller, name="茶油", category_slug="oil", price_fen=9900, stock=3,
                            origin_code=GULOU),
        "jujube": make.product(other, name="溆浦红枣", category_slug="jujube", price_fen=3500,
                               stock=100, origin_code=CAOJIAXI),
        "rice": make.product(other, name="高山稻米", category_slug="rice-grain", price_fen=5000,
                             stock=20, origin_code=CAOJIAXI),
        "draft": make.product(seller, name="未上架茶", status=ProductStatus.draft),
        "pending": make.product(seller, name="待审核茶", status=ProductStatus.pending),
    }
    suspended = make.seller(name="已暂停合作社", status=SellerStatus.suspended)
    p["suspended"] = make.product(suspended, name="暂停商家的茶")
    return p


def names(resp):
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return [i["name"] for i in resp.get_json()["items"]]


def test_list_shows_only_visible_products_with_the_item_shape(api, shelf):
    resp = api.get("/api/v1/products")
    body = resp.get_json()
    assert body["total"] == 5 and body["page"] == 1 and body["per_page"] == 24
    assert set(names(resp)) == {"雪峰云雾茶", "古楼红茶", "茶油", "溆浦红枣", "高山稻米"}
    item = next(i for i in body["items"] if i["name"] == "雪峰云雾茶")
    tea = shelf["tea"]
    assert item["id"] == tea.id and item["sku"] == tea.sku
    assert item["price"] == {"amount": 12800, "currency": "CNY"}
    assert item["stock"] == 50
    assert item["category"]["slug"] == "tea" and item["category"]["name"] == "茶叶"
    assert item["seller"] == {"id": tea.seller_id, "name": "洞口县雪峰茶叶专业合作社",
                              "kind": "cooperative"}
    assert item["origin"] == {"code": HONGXI, "name": "洪溪村",
                              "path_names": ["湖南省", "邵阳市", "洞口县", "月溪镇", "洪溪村"]}
    assert item["certified"] is True
    assert item["url"].startswith("http") and item["url"].endswith(f"/products/{tea.id}")
    assert api.get(item["url"]).status_code == 200  # the storefront page exists


def test_region_matches_the_whole_subtree(api, shelf):
    assert set(names(api.get("/api/v1/products?region=430525"))) == {"雪峰云雾茶", "古楼红茶",
                                                                     "茶油"}
    assert set(names(api.get("/api/v1/products?region=430525101"))) == {"雪峰云雾茶", "古楼红茶",
                                                                        "茶油"}
    assert set(names(api.get(f"/api/v1/products?region={GULOU}"))) == {"古楼红茶", "茶油"}
    assert set(names(api.get("/api/v1/products?region=43"))) == {
        "雪峰云雾茶", "古楼红茶", "茶油", "溆浦红枣", "高山稻米"}
    assert names(api.get("/api/v1/products?region=110101")) == []  # unknown code: nothing


def test_prices_are_in_fen(api, shelf):
    assert set(names(api.get("/api/v1/products?min_price=6800&max_price=9900"))) == {
        "古楼红茶", "茶油"}
    assert names(api.get("/api/v1/products?max_price=3500")) == ["溆浦红枣"]
    assert names(api.get("/api/v1/products?min_price=12801")) == []


def test_category_seller_in_stock_and_q(api, shelf):
    assert set(names(api.get("/api/v1/products?category=tea"))) == {"雪峰云雾茶", "古楼红茶"}
    assert names(api.get("/api/v1/products?category=no-such")) == []
    seller_id = shelf["jujube"].seller_id
    assert set(names(api.get(f"/api/v1/products?seller={seller_id}"))) == {"溆浦红枣", "高山稻米"}
    assert "古楼红茶" not in names(api.get("/api/v1/products?in_stock=1"))
    assert len(names(api.get("/api/v1/products?in_stock=true"))) == 4
    assert names(api.get("/api/v1/products?q=红茶")) == ["古楼红茶"]
    # the seller's name matches too
    assert set(names(api.get("/api/v1/products?q=红枣"))) == {"溆浦红枣", "高山稻米"}


def test_sorts(api, shelf):
    asc = api.get("/api/v1/products?sort=price_asc").get_json()["items"]
    assert [i["price"]["amount"] for i in asc] == [3500, 5000, 6800, 9900, 12800]
    desc = api.get("/api/v1/products?sort=price_desc").get_json()["items"]
    assert [i["price"]["amount"] for i in desc] == [12800, 9900, 6800, 5000, 3500]
    newest = names(api.get("/api/v1/products?sort=newest"))
    assert newest[0] == "高山稻米"  # made last, listed last


def test_pagination(api, shelf):
    pages = [api.get(f"/api/v1/products?sort=price_asc&per_page=2&page={n}").get_json()
             for n in (1, 2, 3, 4)]
    assert [p["total"] for p in pages] == [5, 5, 5, 5]
    assert [p["per_page"] for p in pages] == [2, 2, 2, 2]
    assert [[i["price"]["amount"] for i in p["items"]] for p in pages] == [
        [3500, 5000], [6800, 9900], [12800], []]
    assert pages[2]["page"] == 3


@pytest.mark.parametrize("query,arg", [
    ("min_price=abc", "min_price"),
    ("max_price=-5", "max_price"),
    ("min_price=12.5", "min_price"),
    ("sort=cheapest", "sort"),
    ("page=0", "page"),
    ("page=x", "page"),
    ("per_page=1000", "per_page"),
    ("per_page=0", "per_page"),
    ("region=hunan", "region"),
    ("seller=abc", "seller"),
])
def test_bad_parameters_are_400_with_details(api, query, arg):
    err = assert_error(api.get(f"/api/v1/products?{query}"), 400, "validation_failed")
    assert arg in err["details"]["fields"], err


def test_every_bad_parameter_is_named(api):
    err = assert_error(api.get("/api/v1/products?min_price=x&sort=y&page=-1"), 400)
    assert set(err["details"]["fields"]) == {"min_price", "sort", "page"}


def test_detail_of_a_visible_product(api, make, shelf):
    from marketplace.catalog.services import UploadedImage, add_images
    from tests.fixtures.factories import image_bytes

    def add_image(session):
        from marketplace.accounts.models import Role
        from marketplace.catalog.models import Product
        from tests.fixtures.factories import make_user
        admin = make_user(session, Role.platform_admin)
        add_images(session, admin, session.get(Product, shelf["tea"].id),
                   [UploadedImage("tea.png", image_bytes())])
    make(add_image)

    resp = api.get(f"/api/v1/products/{shelf['tea'].id}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["name"] == "雪峰云雾茶" and body["description"] == "高山云雾茶园"
    assert body["price"] == {"amount": 12800, "currency": "CNY"}
    assert body["origin"]["path_names"][-1] == "洪溪村"
    assert len(body["images"]) == 1
    image = body["images"][0]
    assert image["url"].startswith("http")
    assert api.get(image["url"]).status_code == 200
    assert body["certificate"]["number"]
    assert "status" not in body  # the workflow state is for the seller's staff


def test_beneficiary_count_by_seller_kind(api, make):
    homes = [make.household(n=500 + i) for i in range(3)]
    coop = make.seller(members=[])

    def add_members(session):
        from marketplace.sellers.models import CooperativeMember
        for i, hh in enumerate(homes):
            session.add(CooperativeMember(seller_id=coop.id, household_id=hh.id, weight=i + 1))
    make(add_members)
    shop = make.seller(kind=SellerKind.household_shop, household=None)
    firm = make.seller(kind=SellerKind.enterprise)
    counts = {}
    for label, seller in (("coop", coop), ("shop", shop), ("firm", firm)):
        product = make.product(seller)
        counts[label] = api.get(f"/api/v1/products/{product.id}").get_json()["beneficiary_count"]
    assert counts == {"coop": 3, "shop": 1, "firm": 0}


@pytest.mark.parametrize("which", ["draft", "pending", "suspended"])
def test_detail_of_a_hidden_product_is_404(api, shelf, which):
    assert_error(api.get(f"/api/v1/products/{shelf[which].id}"), 404, "not_found")


def test_detail_of_a_missing_product_is_404(api):
    assert_error(api.get("/api/v1/products/999999"), 404, "not_found")
    assert_error(api.get("/api/v1/products/abc"), 404)


def test_categories_with_counts(api, shelf):
    resp = api.get("/api/v1/categories")
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    assert len(items) == 9
    counts = {i["slug"]: i["product_count"] for i in items}
    assert counts["tea"] == 2 and counts["oil"] == 1 and counts["jujube"] == 1
    assert counts["rice-grain"] == 1 and counts["crafts"] == 0
    tea = next(i for i in items if i["slug"] == "tea")
    assert tea["name"] == "茶叶" and tea["name_en"] == "Tea"
