"""Seller console through the test client (both engines): applying, products and images, the
review buttons, cooperative members; bad input writes nothing; other sellers' objects are 404."""
from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role, RoleGrant, User
from marketplace.catalog.models import Product, ProductImage, ProductStatus
from marketplace.extensions import db
from marketplace.sellers.models import CooperativeMember, Seller, SellerKind, SellerStatus
from tests.fixtures.factories import image_bytes, make_user, valid_credit_code, valid_id_number

HONGXI = "430525101201"  # 洪溪村
GULOU = "430525101202"  # 古楼村
PNG = image_bytes()
BIG_PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024 + 1 - 8)


def counts(app) -> dict:
    with app.app_context():
        def n(model):
            return db.session.scalar(select(func.count()).select_from(model))
        folder = Path(app.config["UPLOAD_FOLDER"])
        return {"products": n(Product), "sellers": n(Seller), "images": n(ProductImage),
                "grants": n(RoleGrant), "members": n(CooperativeMember),
                "files": len(list(folder.iterdir())) if folder.exists() else 0}


def load(app, model, ident):
    with app.app_context():
        obj = db.session.get(model, ident)
        if isinstance(obj, Product):
            obj.images  # noqa: B018 - load before the context closes
        return obj


def product_form(**changes) -> dict:
    data = {"name": "雪峰云雾茶", "category": "tea", "spec": "250g/罐", "description": "高山茶园",
            "price": "128.00", "stock": "50", "origin_code": HONGXI, "certificate_no": "",
            "certificate_valid_until": "", "action": "save"}
    data.update(changes)
    return data


def text(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.fixture
def shop(app, client, make):
    """A verified cooperative, its staff member logged in on `client`, and one other seller."""
    make.regions()
    seller = make.seller(name="古楼茶叶专业合作社")
    staff = make.staff(seller, login="staff@example.test")
    other = make.seller(name="溆浦红枣合作社", region_code="431224")
    client.login("staff@example.test")
    return SimpleNamespace(seller=seller, staff=staff, other=other)


# ---- applying ---------------------------------------------------------------------------------

def apply_form(**changes) -> dict:
    data = {"kind": "cooperative", "name": "洞口县雪峰蜜橘专业合作社", "region_code": "430525",
            "contact_name": "李四", "contact_mobile": "13800138000", "description": "",
            "credit_code": valid_credit_code(7001), "household_code": "",
            "household_id_number": ""}
    data.update(changes)
    return data


def test_apply_page_lists_kinds_and_regions(client, make):
    make.regions()
    make.user(login="buyer@example.test")
    client.login("buyer@example.test")
    html = text(client.get("/seller/apply"))
    for label in ("农民专业合作社", "带农企业", "农户店铺"):
        assert label in html
    assert 'value="430525"' in html and "洞口县 · 月溪镇" in html
    assert 'value="430525101201"' not in html  # villages are not seller regions


def test_anonymous_apply_redirects_to_login(client):
    resp = client.get("/seller/apply")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_user_without_seller_is_sent_to_apply(client, make):
    make.user(login="buyer@example.test")
    client.login("buyer@example.test")
    resp = client.get("/seller")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/seller/apply")
    assert client.get("/seller/products").status_code == 403


def test_enterprise_application_makes_the_user_staff(app, client, make):
    make.regions()
    user = make.user(login="ent@example.test")
    client.login("ent@example.test")
    resp = client.post_form("/seller/apply", apply_form(kind="enterprise", name="湖南古楼雪峰云雾茶有限公司"))
    assert resp.status_code == 302
    with app.app_context():
        seller = db.session.scalar(select(Seller).where(Seller.name == "湖南古楼雪峰云雾茶有限公司"))
        assert seller.kind == SellerKind.enterprise and seller.status == SellerStatus.pending
        assert seller.applicant_id == user.id
        assert db.session.get(User, user.id).seller_ids() == {seller.id}
    html = text(client.get(resp.headers["Location"]))
    assert "入驻申请已提交，等待平台审核" in html and "待审核" in html


def test_household_shop_with_the_heads_id_number(app, client, make):
    make.regions()
    household = make.household(name="王小红", n=4242)
    make.user(login="hh@example.test")
    client.login("hh@example.test")
    resp = client.post_form("/seller/apply", apply_form(
        kind="household_shop", name="王家土特产店", credit_code="",
        household_code=household.code, household_id_number=valid_id_number(4242)))
    assert resp.status_code == 302, text(resp)[:2000]
    with app.app_context():
        seller = db.session.scalar(select(Seller).where(Seller.name == "王家土特产店"))
        assert seller.household_id == household.id and seller.credit_code is None


@pytest.mark.parametrize("changes, message", [
    ({"credit_code": "91430525MA4L0001XX"}, "统一社会信用代码无效"),
    ({"credit_code": ""}, "统一社会信用代码无效"),
    ({"contact_mobile": "12345"}, "请输入有效的 11 位手机号"),
    ({"region_code": ""}, "请选择所在地区"),
    ({"name": "社"}, "名称应为 2 到 100 个字"),
])
def test_bad_application_writes_nothing(app, client, make, changes, message):
    make.regions()
    make.user(login="buyer@example.test")
    client.login("buyer@example.test")
    before = counts(app)
    resp = client.post_form("/seller/apply", apply_form(**changes))
    assert resp.status_code == 400
    assert message in text(resp)
    assert counts(app) == before


def test_duplicate_credit_code_is_refused(app, client, make):
    make.regions()
    existing = make.seller(name="已有合作社")
    make.user(login="buyer@example.test")
    client.login("buyer@example.test")
    before = counts(app)
    resp = client.post_form("/seller/apply", apply_form(credit_code=existing.credit_code.lower()))
    assert resp.status_code == 400
    assert "该统一社会信用代码已登记" in text(resp)
    assert counts(app) == before


def test_duplicate_name_is_refused(app, client, make):
    make.regions()
    make.seller(name="已有合作社")
    make.user(login="buyer@example.test")
    client.login("buyer@example.test")
    before = counts(app)
    resp = client.post_form("/seller/apply", apply_form(name="已有合作社"))
    assert resp.status_code == 400 and "该名称已被其他经营主体使用" in text(resp)
    assert counts(app) == before


def test_household_shop_with_a_wrong_id_number_is_refused(app, client, make):
    make.regions()
    household = make.household(n=4343)
    make.user(login="buyer@example.test")
    client.login("buyer@example.test")
    before = counts(app)
    for bad in ("430525197001010000", valid_id_number(4344)):  # bad checksum; someone else's
        resp = client.post_form("/seller/apply", apply_form(
            kind="household_shop", credit_code="", household_code=household.code,
            household_id_number=bad))
        assert resp.status_code == 400
        assert "户主身份证号码与该帮扶对象不符" in text(resp)
    resp = client.post_form("/seller/apply", apply_form(
        kind="household_shop", credit_code="", household_code="HNOSUCH", household_id_number=""))
    assert resp.status_code == 400 and "未找到该帮扶对象编号" in text(resp)
    assert counts(app) == before


def test_application_without_csrf_token_writes_nothing(app, client, make):
    make.regions()
    make.user(login="buyer@example.test")
    client.login("buyer@example.test")
    before = counts(app)
    resp = client.post_form("/seller/apply", apply_form(), csrf=False)
    assert resp.status_code == 400
    assert "缺少安全令牌" in text(resp)
    assert counts(app) == before


# ---- overview and switcher -------------------------------------------------------------------

def test_index_shows_status_and_counts(app, client, make, shop):
    make.product(shop.seller, name="在售茶", status=ProductStatus.listed)
    make.product(shop.seller, name="草稿茶", status=ProductStatus.draft)
    make.product(shop.seller, name="草稿茶二", status=ProductStatus.draft)
    html = text(client.get("/seller"))
    assert "古楼茶叶专业合作社" in html and "已认证" in html
    assert re.search(r"<b>2</b>\s*草稿", html) and re.search(r"<b>1</b>\s*已上架", html)


def test_suspended_seller_sees_the_reason(app, client, make, shop):
    def suspend(session):
        s = session.get(Seller, shop.seller.id)
        s.status, s.status_note = SellerStatus.suspended, "证照过期"
    make(suspend)
    html = text(client.get("/seller"))
    assert "已暂停" in html and "证照过期" in html


def test_staff_of_two_sellers_switch_between_them(app, make_client, make):
    make.regions()
    first = make.seller(name="第一合作社")
    second = make.seller(name="第二合作社")

    def staff_of_both(session):
        user = make_user(session, Role.seller_staff, login="multi@example.test",
                         seller=session.get(Seller, first.id))
        user.grants.append(RoleGrant(role=Role.seller_staff, seller_id=second.id))
        session.flush()
        return user
    make(staff_of_both)
    make.product(second, name="第二家的茶")
    browser = make_client()
    browser.login("multi@example.test")
    html = text(browser.get("/seller"))
    assert "第一合作社" in html and "第二合作社" in html
    assert f"/seller?seller={second.id}" in html
    html = text(browser.get(f"/seller/products?seller={second.id}"))
    assert "第二家的茶" in html
    assert "第二家的茶" not in text(browser.get(f"/seller/products?seller={first.id}"))


# ---- products ---------------------------------------------------------------------------------

def test_product_list_tabs_and_rejection_reason(app, client, make, shop):
    make.product(shop.seller, name="待审茶", status=ProductStatus.pending)

    def rejected(session):
        from tests.fixtures.factories import make_product
        p = make_product(session, session.get(Seller, shop.seller.id), name="驳回茶",
                         status=ProductStatus.rejected)
        p.review_note = "图片不清晰"
    make(rejected)
    html = text(client.get("/seller/products?status=rejected"))
    assert "驳回茶" in html and "图片不清晰" in html and "待审茶" not in html
    html = text(client.get("/seller/products"))
    assert "驳回茶" in html and "待审茶" in html and "¥128.00" in html


def test_new_product_form_offers_categories_and_villages(client, shop):
    html = text(client.get("/seller/products/new"))
    assert 'enctype="multipart/form-data"' in html and 'inputmode="decimal"' in html
    assert 'value="tea"' in html and "茶叶" in html
    assert f'value="{HONGXI}"' in html and "洪溪村" in html
    assert 'label="洞口县 · 月溪镇"' in html  # villages grouped by township
    assert 'type="file"' in html and "multiple" in html


def test_create_draft_with_images(app, client, shop):
    before = counts(app)
    resp = client.post_form("/seller/products/new", product_form(
        images=[(io.BytesIO(PNG), "a.png"), (io.BytesIO(image_bytes("JPEG")), "b.jpg")]))
    assert resp.status_code == 302, text(resp)[:2000]
    after = counts(app)
    assert after["products"] == before["products"] + 1
    assert after["images"] == before["images"] + 2
    assert after["files"] == before["files"] + 4  # each image and its thumbnail
    pid = int(re.search(r"/seller/products/(\d+)/edit", resp.headers["Location"]).group(1))
    product = load(app, Product, pid)
    assert product.status == ProductStatus.draft and product.price_fen == 12800
    html = text(client.get(resp.headers["Location"]))
    assert 'value="128.00"' in html and "草稿" in html
    assert html.count("确定删除这张图片吗") == 2


def upload(data: bytes, name: str):
    return lambda: (io.BytesIO(data), name)  # a fresh file for every run of a test


BAD_INPUT = [
    ({"images": upload(b"not an image", "x.png")}, "不是有效的图片文件"),
    ({"images": [upload(PNG, "ok.png"), upload(b"not an image", "x.png")]}, "不是有效的图片文件"),
    ({"images": upload(BIG_PNG, "big.png")}, "超过 5 MB"),
    ({"price": "-5"}, "请输入正确的价格（元）"),
    ({"price": "999999999"}, "价格不能超过 99,999.99 元"),
    ({"price": "12.345"}, "请输入正确的价格（元）"),
    ({"price": "0"}, "价格必须大于 0"),
    ({"stock": "-1"}, "库存应在 0 到 1,000,000 之间"),
    ({"origin_code": "430525101"}, "请选择产地（到村）"),
    ({"category": ""}, "请选择商品分类"),
    ({"certificate_no": "湘帮扶认字2024-001"}, "填写认定证书号时必须填写有效期"),
]


def _files(value):
    if callable(value):
        return value()
    if isinstance(value, list):
        return [_files(v) for v in value]
    return value


@pytest.mark.parametrize("changes, message", BAD_INPUT)
def test_bad_product_input_writes_nothing(app, client, shop, changes, message):
    before = counts(app)
    changes = {k: _files(v) for k, v in changes.items()}
    resp = client.post_form("/seller/products/new", product_form(action="submit", **changes))
    assert resp.status_code == 400
    assert message in text(resp)
    assert counts(app) == before


def test_too_many_images_are_refused(app, client, shop):
    before = counts(app)
    six = [(io.BytesIO(PNG), f"{i}.png") for i in range(6)]
    resp = client.post_form("/seller/products/new", product_form(images=six))
    assert resp.status_code == 400 and "每个商品最多 5 张图片" in text(resp)
    assert counts(app) == before


def test_product_without_csrf_token_writes_nothing(app, client, shop):
    before = counts(app)
    resp = client.post_form("/seller/products/new",
                            product_form(images=(io.BytesIO(PNG), "a.png")), csrf=False)
    assert resp.status_code == 400 and "缺少安全令牌" in text(resp)
    assert counts(app) == before


def test_database_failure_after_files_were_written_leaves_nothing(app, client, shop,
                                                                  monkeypatch):
    before = counts(app)

    def broken_commit():
        raise RuntimeError("database went away")
    with monkeypatch.context() as m:
        m.setattr(db.session, "commit", broken_commit)
        resp = client.post_form("/seller/products/new",
                                product_form(images=(io.BytesIO(PNG), "a.png")))
    assert resp.status_code == 500
    assert counts(app) == before


def test_edit_listed_product_price_stays_listed_other_changes_go_to_review(app, client, make,
                                                                          shop):
    product = make.product(shop.seller, name="云雾茶", price_fen=9900)
    url = f"/seller/products/{product.id}/edit"
    html = text(client.get(url))
    assert 'value="99.00"' in html and "已上架" in html
    same = {"name": "云雾茶", "description": "高山云雾茶园"}  # as the factory made it
    resp = client.post_form(url, product_form(price="88.80", **same))
    assert resp.status_code == 302
    p = load(app, Product, product.id)
    assert p.price_fen == 8880 and p.status == ProductStatus.listed
    resp = client.post_form(url, product_form(price="88.80", **{**same, "name": "云雾茶 新包装"}))
    assert resp.status_code == 302
    assert load(app, Product, product.id).status == ProductStatus.pending


def test_bad_edit_changes_nothing(app, client, make, shop):
    product = make.product(shop.seller, name="云雾茶", price_fen=9900)
    before = counts(app)
    resp = client.post_form(f"/seller/products/{product.id}/edit", product_form(
        name="改名茶", price="-1", images=(io.BytesIO(PNG), "a.png")))
    assert resp.status_code == 400 and "请输入正确的价格（元）" in text(resp)
    assert "本次选择的图片没有保存" in text(resp)
    p = load(app, Product, product.id)
    assert p.name == "云雾茶" and p.price_fen == 9900
    assert counts(app) == before


def test_add_and_remove_images_on_edit(app, client, make, shop):
    product = make.product(shop.seller, status=ProductStatus.draft)
    url = f"/seller/products/{product.id}/edit"
    resp = client.post_form(url, product_form(images=[(io.BytesIO(PNG), "a.png"),
                                                      (io.BytesIO(PNG), "b.png")]))
    assert resp.status_code == 302
    p = load(app, Product, product.id)
    assert len(p.images) == 2
    folder = Path(app.config["UPLOAD_FOLDER"])
    gone = p.images[0]
    assert (folder / gone.filename).exists()
    resp = client.post_form(f"/seller/products/{product.id}/images/{gone.id}/remove")
    assert resp.status_code == 302
    p = load(app, Product, product.id)
    assert [i.id for i in p.images] == [p.images[0].id] and p.images[0].id != gone.id
    assert not (folder / gone.filename).exists() and not (folder / gone.thumb_filename).exists()


def test_submit_and_delist_buttons(app, client, make, shop):
    product = make.product(shop.seller, status=ProductStatus.draft)
    resp = client.post_form(f"/seller/products/{product.id}/submit")
    assert resp.status_code == 302
    assert load(app, Product, product.id).status == ProductStatus.pending
    resp = client.post_form(f"/seller/products/{product.id}/submit")  # already pending
    assert resp.status_code == 302
    html = text(client.get(resp.headers["Location"]))
    assert "状态的商品不能提交审核" in html
    client.post_form(f"/seller/products/{product.id}/delist")
    assert load(app, Product, product.id).status == ProductStatus.delisted


def test_pending_seller_can_write_drafts(app, make_client, make):
    make.regions()
    seller = make.seller(name="新合作社", status=SellerStatus.pending)
    make.staff(seller, login="new@example.test")
    browser = make_client()
    browser.login("new@example.test")
    html = text(browser.get("/seller/products/new"))
    assert "尚未通过认证" in html
    resp = browser.post_form("/seller/products/new", product_form(name="新茶"))
    assert resp.status_code == 302


# ---- access -----------------------------------------------------------------------------------

def test_other_sellers_products_are_not_found(app, client, make, shop):
    theirs = make.product(shop.other, name="别家红枣")

    def their_image(session):
        img = ProductImage(product_id=theirs.id, position=1, filename="theirs.jpg",
                           thumb_filename="theirs_t.jpg", width=1, height=1)
        session.add(img)
        session.flush()
        return img
    image = make(their_image)
    before = counts(app)
    pid = theirs.id
    assert client.get(f"/seller/products/{pid}/edit").status_code == 404
    assert client.post_form(f"/seller/products/{pid}/edit",
                            product_form(name="抢来的")).status_code == 404
    assert client.post_form(f"/seller/products/{pid}/submit").status_code == 404
    assert client.post_form(f"/seller/products/{pid}/delist").status_code == 404
    assert client.post_form(f"/seller/products/{pid}/images/{image.id}/remove").status_code == 404
    assert client.get(f"/seller/products?seller={shop.other.id}").status_code == 404
    assert client.get(f"/seller/products/new?seller={shop.other.id}").status_code == 404
    assert client.get("/seller/products/999999/edit").status_code == 404
    p = load(app, Product, pid)
    assert p.name == "别家红枣" and p.status == ProductStatus.listed
    assert counts(app) == before


# ---- cooperative members ----------------------------------------------------------------------

def test_members_are_listed_masked_added_and_removed(app, client, make, shop):
    household = make.household(name="张三明", n=5151)
    before = counts(app)
    resp = client.post_form("/seller/members", {"household_code": household.code, "weight": "3"})
    assert resp.status_code == 302, text(resp)[:2000]
    html = text(client.get("/seller/members"))
    assert "张*明" in html and "张三明" not in html and "洪溪村" in html
    assert counts(app)["members"] == before["members"] + 1
    with app.app_context():
        member = db.session.scalar(select(CooperativeMember))
        assert member.weight == 3
    resp = client.post_form(f"/seller/members/{member.id}/remove")
    assert resp.status_code == 302
    assert counts(app) == before


@pytest.mark.parametrize("data, message", [
    ({"household_code": "HNOSUCH", "weight": "1"}, "未找到该帮扶对象编号"),
    ({"household_code": "CODE", "weight": "0"}, "权重应为 1 到 1000000 之间的整数"),
    ({"household_code": "CODE", "weight": "abc"}, "权重应为 1 到 1000000 之间的整数"),
])
def test_bad_member_input_writes_nothing(app, client, make, shop, data, message):
    household = make.household(n=5252)
    data = {k: (household.code if v == "CODE" else v) for k, v in data.items()}
    before = counts(app)
    resp = client.post_form("/seller/members", data)
    assert resp.status_code == 400 and message in text(resp)
    assert counts(app) == before


def test_other_sellers_members_are_not_found(app, client, make, shop):
    household = make.household(n=5353)

    def member(session):
        m = CooperativeMember(seller_id=shop.other.id, household_id=household.id, weight=1)
        session.add(m)
        session.flush()
        return m
    theirs = make(member)
    before = counts(app)
    assert client.get(f"/seller/members?seller={shop.other.id}").status_code == 404
    # removing their member through our own seller's page finds nothing either
    assert client.post_form(f"/seller/members/{theirs.id}/remove").status_code == 404
    assert counts(app) == before


# ---- stock is what the seller holds: on hand, held by unpaid orders, free ---------------------

def hold(make, product_id: int, quantity: int, key: str) -> int:
    """A buyer's unpaid order holds `quantity` units: its id."""
    def place(session):
        from marketplace.orders.services import AddressInput, LineInput, checkout
        from tests.fixtures.factories import DELIVERY
        order, = checkout(session, make_user(session, "buyer"), [LineInput(product_id, quantity)],
                          AddressInput(**DELIVERY), idempotency_key=key)
        return order.id
    return make(place)


def pay(make, order_id: int) -> None:
    def paid(session):
        from marketplace.orders.models import Order
        from marketplace.payments.capture import record_payment
        order = session.get(Order, order_id)
        record_payment(session, order, provider="simulated", reference=f"sim-{order_id}",
                       amount_fen=order.total_fen, currency="CNY")
    make(paid)


def shelf(app, product_id) -> tuple[int, int, int]:
    p = load(app, Product, product_id)
    return p.on_hand, p.held, p.stock


def test_the_console_shows_on_hand_held_and_free(app, client, make, shop):
    product = make.product(shop.seller, name="云雾茶", stock=10)
    hold(make, product.id, 3, "hold-00000001")
    html = text(client.get("/seller/products"))
    assert "在手 10 · 占用 3 · 可售 7" in html
    html = text(client.get(f"/seller/products/{product.id}/edit"))
    assert re.search(r'name="stock"[^>]*value="10"|value="10"[^>]*name="stock"', html)
    assert "在手的件数，含未付款订单占用的 3 件（现可售 7 件）" in html
    assert 'name="stock_shown" value="10"' in html


def test_the_stock_typed_is_on_hand_and_less_than_held_is_refused(app, client, make, shop):
    product = make.product(shop.seller, name="云雾茶", stock=10)
    hold(make, product.id, 3, "hold-00000002")
    url = f"/seller/products/{product.id}/edit"
    same = {"name": "云雾茶", "description": "高山云雾茶园"}
    resp = client.post_form(url, product_form(stock="5", stock_shown="10", **same))
    assert resp.status_code == 302
    assert shelf(app, product.id) == (5, 3, 2)
    resp = client.post_form(url, product_form(stock="2", stock_shown="5", **same))
    assert resp.status_code == 400
    assert "有 3 件已被未付款订单或团购占用，库存不能少于此数" in text(resp)
    assert shelf(app, product.id) == (5, 3, 2)


def test_saving_a_form_shown_before_a_sale_does_not_undo_it(app, client, make, shop):
    product = make.product(shop.seller, name="云雾茶", stock=10)
    url = f"/seller/products/{product.id}/edit"
    assert 'name="stock_shown" value="10"' in text(client.get(url))
    pay(make, hold(make, product.id, 2, "hold-00000003"))  # sold meanwhile: 8 on hand
    assert shelf(app, product.id) == (8, 0, 8)
    same = {"name": "云雾茶", "description": "高山云雾茶园"}
    resp = client.post_form(url, product_form(stock="10", stock_shown="10", price="99.00",
                                              **same))
    assert resp.status_code == 302
    p = load(app, Product, product.id)
    assert (p.on_hand, p.price_fen) == (8, 9900)  # the stock as shown was left alone
    resp = client.post_form(url, product_form(stock="12", stock_shown="10", **same))
    assert resp.status_code == 302 and shelf(app, product.id) == (12, 0, 12)
