"""POST /api/v1/seller/products and PATCH /api/v1/seller/products/{id}."""
import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.catalog.models import Product, ProductStatus
from marketplace.extensions import db
from tests.api.conftest import assert_error
from tests.fixtures.factories import DELIVERY, make_user

URL = "/api/v1/seller/products"


def new_product(**kw):
    body = {"name": "雪峰云雾茶", "category": "tea", "spec": "250g/罐",
            "description": "海拔千米的高山茶园", "price": {"amount": 12800, "currency": "CNY"},
            "stock": 40, "origin_code": "430525101201"}
    body.update(kw)
    return body


def count_products(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Product))


def load(app, product_id) -> Product:
    with app.app_context():
        product = db.session.get(Product, product_id)
        db.session.expunge(product)
        return product


@pytest.fixture
def seller(make):
    return make.seller(name="湖南古楼雪峰云雾茶有限公司")


@pytest.fixture
def staff(api, seller):
    return api.staff_headers(seller)[1]


def test_create_starts_as_draft(api, app, seller, staff):
    resp = api.post(URL, new_product(), headers=staff)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["status"] == "draft"
    assert body["price"] == {"amount": 12800, "currency": "CNY"}
    assert body["seller"]["id"] == seller.id
    assert body["origin"]["code"] == "430525101201"
    assert body["stock"] == 40 and body["spec"] == "250g/罐"
    assert resp.headers["Location"].endswith(f"{URL}/{body['id']}")
    product = load(app, body["id"])
    assert product.status == ProductStatus.draft and product.price_fen == 12800
    # a draft is not for shoppers
    assert_error(api.get(f"/api/v1/products/{body['id']}"), 404)


def test_create_and_submit_is_pending_review(api, app, staff):
    resp = api.post(URL, new_product(submit=True, price={"amount": 990, "currency": "CNY"}), headers=staff)
    assert resp.status_code == 201
    assert resp.get_json()["status"] == "pending"
    assert load(app, resp.get_json()["id"]).price_fen == 990


@pytest.mark.parametrize("price", [
    -100, 0, 990, 10_000_000, 12.5, 1250.0, "12.50", "1250", True, None,
    {"amount": 12.5, "currency": "CNY"}, {"amount": -1, "currency": "CNY"},
    {"amount": 100, "currency": "USD"}, {"amount": "100"}, {"value": 100},
])
def test_bad_price_is_400_and_writes_nothing(api, app, staff, price):
    err = assert_error(api.post(URL, new_product(price=price), headers=staff), 400,
                       "validation_failed")
    assert "price" in err["details"]["fields"]
    assert count_products(app) == 0


def test_missing_price_is_400(api, app, staff):
    body = new_product()
    del body["price"]
    err = assert_error(api.post(URL, body, headers=staff), 400)
    assert "price" in err["details"]["fields"]
    assert count_products(app) == 0


def test_every_bad_field_is_named(api, app, staff):
    err = assert_error(api.post(URL, new_product(name="x", category="cars", stock=-1,
                                                 origin_code="430525"), headers=staff), 400)
    assert set(err["details"]["fields"]) == {"name", "category", "stock", "origin"}
    assert count_products(app) == 0


def test_wrong_types_are_400(api, app, staff):
    err = assert_error(api.post(URL, new_product(stock="10", name=["茶"], submit="yes"),
                                headers=staff), 400, "validation_failed")
    assert set(err["details"]["fields"]) == {"stock", "name", "submit"}
    err = assert_error(api.post(URL, new_product(colour="red"), headers=staff), 400)
    assert "colour" in err["details"]["fields"]
    assert count_products(app) == 0


def test_non_json_body_is_400(api, staff):
    assert_error(api.client.post(URL, data="name=tea", headers=staff), 400, "invalid_json")
    assert_error(api.client.post(URL, data="[1, 2", headers=staff,
                                 content_type="application/json"), 400, "invalid_json")


def test_staff_of_several_sellers_must_name_one(api, app, make, seller):
    second = make.seller()

    def build(session):
        from marketplace.sellers.models import Seller
        return make_user(session, Role.seller_staff, seller=session.get(Seller, seller.id))
    user = make(build)

    def add_second(session):
        from marketplace.accounts.models import User
        from marketplace.accounts.services import grant_role
        grant_role(session, session.get(User, user.id), Role.seller_staff, seller_id=second.id)
    make(add_second)
    headers = api.auth(user.email)
    err = assert_error(api.post(URL, new_product(), headers=headers), 400)
    assert "seller_id" in err["details"]["fields"]
    resp = api.post(URL, new_product(seller_id=second.id), headers=headers)
    assert resp.status_code == 201
    assert resp.get_json()["seller"]["id"] == second.id


def test_naming_another_sellers_id_is_404(api, app, make, staff):
    other = make.seller()
    assert_error(api.post(URL, new_product(seller_id=other.id), headers=staff), 404, "not_found")
    assert_error(api.post(URL, new_product(seller_id=987654), headers=staff), 404)
    assert count_products(app) == 0


def test_a_buyer_gets_403_and_nobody_gets_in_without_a_token(api, app, buyer_headers):
    assert_error(api.post(URL, new_product(), headers=buyer_headers), 403, "forbidden")
    assert_error(api.post(URL, new_product()), 401, "unauthorized")
    assert count_products(app) == 0


# ---- PATCH ------------------------------------------------------------------------------------

@pytest.fixture
def listed(make, seller):
    return make.product(seller, price_fen=12800, stock=10, status=ProductStatus.listed)


def test_patch_price_and_stock_keeps_it_listed(api, app, staff, listed):
    resp = api.patch(f"{URL}/{listed.id}", {"price": {"amount": 9900, "currency": "CNY"},
                                             "stock": 7}, headers=staff)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["price"]["amount"] == 9900 and body["stock"] == 7
    assert body["status"] == "listed"
    product = load(app, listed.id)
    assert (product.price_fen, product.stock, product.status) == (9900, 7, ProductStatus.listed)
    assert api.get(f"/api/v1/products/{listed.id}").get_json()["price"]["amount"] == 9900


def test_patch_description_sends_it_back_for_review(api, app, staff, listed):
    resp = api.patch(f"{URL}/{listed.id}", {"description": "新茶上市"}, headers=staff)
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "pending"
    assert load(app, listed.id).description == "新茶上市"


def test_patch_status(api, app, staff, listed, make, seller):
    resp = api.patch(f"{URL}/{listed.id}", {"status": "delisted"}, headers=staff)
    assert resp.get_json()["status"] == "delisted"
    resp = api.patch(f"{URL}/{listed.id}", {"status": "pending"}, headers=staff)
    assert resp.get_json()["status"] == "pending"
    # back to draft is not a move the workflow has
    assert_error(api.patch(f"{URL}/{listed.id}", {"status": "draft"}, headers=staff), 409)
    assert_error(api.patch(f"{URL}/{listed.id}", {"status": "sold"}, headers=staff), 400)
    # only platform admins list a product
    assert_error(api.patch(f"{URL}/{listed.id}", {"status": "listed"}, headers=staff), 403)
    assert load(app, listed.id).status == ProductStatus.pending


def test_admin_may_list_through_the_api(api, app, listed):
    _, headers = api.user_headers(Role.platform_admin)
    api.patch(f"{URL}/{listed.id}", {"status": "delisted"}, headers=headers)
    api.patch(f"{URL}/{listed.id}", {"status": "pending"}, headers=headers)
    resp = api.patch(f"{URL}/{listed.id}", {"status": "listed"}, headers=headers)
    assert resp.status_code == 200 and resp.get_json()["status"] == "listed"


@pytest.mark.parametrize("body,field", [
    ({"price": 12.5}, "price"),
    ({"price": 1250}, "price"),  # a bare number: yuan or fen? refused
    ({"price": {"amount": 1250}}, "price"),
    ({"price": {"amount": 1250, "currency": "USD"}}, "price"),
    ({"price": {"amount": "1250", "currency": "CNY"}}, "price"),
    ({"price": {"amount": -1, "currency": "CNY"}}, "price"),
    ({"price": {"amount": 100_000_000, "currency": "CNY"}}, "price"),
    ({"stock": -3}, "stock"),
    ({"stock": "many"}, "stock"),
    ({"description": 5}, "description"),
    ({"name": "新名字"}, "name"),  # not a field PATCH changes
])
def test_patch_bad_input_is_400_and_changes_nothing(api, app, staff, listed, body, field):
    err = assert_error(api.patch(f"{URL}/{listed.id}", body, headers=staff), 400)
    assert field in err["details"]["fields"]
    product = load(app, listed.id)
    assert (product.price_fen, product.stock, product.status) == (12800, 10,
                                                                  ProductStatus.listed)


def test_a_bad_field_rolls_back_the_good_ones(api, app, staff, listed):
    assert_error(api.patch(f"{URL}/{listed.id}", {"stock": 3, "status": "draft"},
                           headers=staff), 409)
    assert load(app, listed.id).stock == 10


def test_patch_another_sellers_product_is_404(api, app, make, staff):
    theirs = make.product(make.seller(), price_fen=5000)
    assert_error(api.patch(f"{URL}/{theirs.id}", {"stock": 1}, headers=staff), 404, "not_found")
    assert_error(api.patch(f"{URL}/999999", {"stock": 1}, headers=staff), 404, "not_found")
    assert load(app, theirs.id).price_fen == 5000


def test_patch_needs_a_seller_token(api, app, listed, buyer_headers):
    assert_error(api.patch(f"{URL}/{listed.id}", {"stock": 1}, headers=buyer_headers), 403)
    assert_error(api.patch(f"{URL}/{listed.id}", {"stock": 1}), 401)
    assert load(app, listed.id).stock == 10


# ---- stock is what the seller holds ----------------------------------------------------------

def hold(api, product_id: int, quantity: int) -> None:
    """A buyer's unpaid order holds `quantity` units."""
    _, headers = api.user_headers(Role.buyer)
    resp = api.post("/api/v1/orders", {
        "lines": [{"product_id": product_id, "quantity": quantity}], "address": DELIVERY,
        "idempotency_key": f"hold-{product_id}-{quantity}"}, headers=headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)


def test_patch_stock_sets_on_hand_and_stock_stays_the_free_units(api, app, staff, listed):
    hold(api, listed.id, 3)
    assert api.get(f"/api/v1/products/{listed.id}").get_json()["stock"] == 7
    resp = api.patch(f"{URL}/{listed.id}", {"stock": 5}, headers=staff)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert (body["on_hand"], body["held"], body["stock"]) == (5, 3, 2)
    assert api.get(f"/api/v1/products/{listed.id}").get_json()["stock"] == 2
    product = load(app, listed.id)
    assert (product.on_hand, product.held, product.stock) == (5, 3, 2)


def test_patch_stock_below_the_units_held_is_400(api, app, staff, listed):
    hold(api, listed.id, 4)
    err = assert_error(api.patch(f"{URL}/{listed.id}", {"stock": 3}, headers=staff), 400,
                       "validation_failed")
    assert err["details"]["fields"]["stock"] == ["有 4 件已被未付款订单或团购占用，库存不能少于此数"]
    assert err["message"] == "有 4 件已被未付款订单或团购占用，库存不能少于此数"
    product = load(app, listed.id)
    assert (product.on_hand, product.held, product.stock) == (10, 4, 6)
    resp = api.patch(f"{URL}/{listed.id}", {"stock": 4}, headers=staff)  # all of it held
    assert resp.status_code == 200 and resp.get_json()["stock"] == 0
