"""Platform-admin console through the test client (both engines): access, seller and product
review queues, users and roles, the region tree and its CSV import."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role, RoleGrant, User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.extensions import db
from marketplace.regions.models import Region
from marketplace.sellers.models import Seller, SellerKind, SellerStatus
from tests.fixtures.factories import make_product

HONGXI = "430525101201"


def text(resp) -> str:
    return resp.get_data(as_text=True)


def load(app, model, ident):
    with app.app_context():
        return db.session.get(model, ident)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin(app, client, make):
    make.regions()
    user = make.user(Role.platform_admin, login="admin@example.test", name="平台管理员")
    client.login("admin@example.test")
    return user


# ---- access -----------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/admin", "/admin/sellers", "/admin/products", "/admin/users",
                                 "/admin/regions", "/admin/regions/430525"])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    resp = client.get(url)
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


def test_buyers_and_seller_staff_get_403(app, client, make_client, make):
    make.regions()
    seller = make.seller(status=SellerStatus.pending)
    make.user(Role.buyer, login="buyer@example.test")
    make.staff(seller, login="staff@example.test")
    for login in ("buyer@example.test", "staff@example.test"):
        browser = make_client()
        browser.login(login)
        for url in ("/admin", "/admin/sellers", "/admin/products", "/admin/users",
                    "/admin/regions"):
            resp = browser.get(url)
            assert resp.status_code == 403, (login, url)
            assert "您没有访问此页面的权限" in text(resp)
        resp = browser.post_form(f"/admin/sellers/{seller.id}/verify")
        assert resp.status_code == 403
        resp = browser.post_form("/admin/regions/add", {"code": "44", "name": "广东省"})
        assert resp.status_code == 403
    assert load(app, Seller, seller.id).status == SellerStatus.pending
    assert count(app, Region) == 10


def test_index_counts_pending_work(app, client, make, admin):
    make.seller(status=SellerStatus.pending)
    make.seller(status=SellerStatus.pending)
    seller = make.seller()
    make.product(seller, status=ProductStatus.pending)
    html = text(client.get("/admin"))
    assert re.search(r"<b>2</b>\s*待审核经营主体", html)
    assert re.search(r"<b>1</b>\s*待审核商品", html)
    assert "/admin/sellers?status=pending" in html and "/admin/products" in html


# ---- sellers ----------------------------------------------------------------------------------

def test_seller_queue_shows_details_and_verifies(app, client, make, admin):
    applicant = make.user(login="applicant@example.test", name="赵申请")

    def pending(session):
        from tests.fixtures.factories import make_seller
        s = make_seller(session, name="待审合作社", status=SellerStatus.pending)
        s.applicant_id = applicant.id
        return s
    seller = make(pending)
    household = make.household(name="李小花", n=6161)
    shop = make.seller(kind=SellerKind.household_shop, name="李家小店",
                       status=SellerStatus.pending, household=household)
    html = text(client.get("/admin/sellers?status=pending"))
    assert "待审合作社" in html and seller.credit_code in html and "农民专业合作社" in html
    assert "applicant@example.test" in html and "赵申请" in html
    assert "李家小店" in html and "李*花" in html and "李小花" not in html
    assert "农户店铺" in html
    resp = client.post_form(f"/admin/sellers/{seller.id}/verify",
                            {"next": "/admin/sellers?status=pending"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("status=pending")
    verified = load(app, Seller, seller.id)
    assert verified.status == SellerStatus.verified and verified.verified_at is not None
    html = text(client.get(resp.headers["Location"]))
    assert "已认证：待审合作社" in html
    assert "李家小店" in html
    assert "待审合作社" in text(client.get("/admin/sellers?status=verified"))
    assert load(app, Seller, shop.id).status == SellerStatus.pending


def test_suspending_needs_a_reason(app, client, make, admin):
    seller = make.seller(name="被暂停合作社")
    resp = client.post_form(f"/admin/sellers/{seller.id}/suspend?status=verified",
                            {"note": "  "})
    assert resp.status_code == 400 and "请填写暂停原因" in text(resp)
    assert load(app, Seller, seller.id).status == SellerStatus.verified
    resp = client.post_form(f"/admin/sellers/{seller.id}/suspend", {"note": "营业执照过期"})
    assert resp.status_code == 302
    suspended = load(app, Seller, seller.id)
    assert suspended.status == SellerStatus.suspended and suspended.status_note == "营业执照过期"
    html = text(client.get("/admin/sellers?status=suspended"))
    assert "被暂停合作社" in html and "营业执照过期" in html
    # suspending twice is refused with a message, not an error page
    resp = client.post_form(f"/admin/sellers/{seller.id}/suspend", {"note": "再次"})
    assert resp.status_code == 409 and "该经营主体已暂停" in text(resp)


def test_unknown_seller_is_404(client, admin):
    assert client.post_form("/admin/sellers/99999/verify").status_code == 404


# ---- products ---------------------------------------------------------------------------------

def pending_product(make, seller, **kw):
    def build(session):
        from marketplace.core.time import now_utc
        p = make_product(session, session.get(Seller, seller.id), status=ProductStatus.pending,
                         **kw)
        p.submitted_at = now_utc()
        return p
    return make(build)


def test_product_queue_shows_what_to_check(app, client, make, admin):
    seller = make.seller(name="古楼茶叶合作社")
    product = pending_product(make, seller, name="待审云雾茶", certified=True, price_fen=6600)

    def uncheck(session):
        session.get(Product, product.id).certificate_checked = False
    make(uncheck)
    make.product(seller, name="已上架茶")  # listed: not in the queue
    html = text(client.get("/admin/products"))
    assert "待审云雾茶" in html and "古楼茶叶合作社" in html and "¥66.00" in html
    assert "湘帮扶认字2024-001" in html and "证书已核验" in html
    assert "已上架茶" not in html


def test_approve_with_certificate_checked(app, client, make, admin):
    seller = make.seller()
    product = pending_product(make, seller, certified=True)

    def uncheck(session):
        session.get(Product, product.id).certificate_checked = False
    make(uncheck)
    resp = client.post_form(f"/admin/products/{product.id}/approve",
                            {"certificate_checked": "y"})
    assert resp.status_code == 302
    p = load(app, Product, product.id)
    assert p.status == ProductStatus.listed and p.certificate_checked and p.certified


def test_approve_without_checking_the_certificate(app, client, make, admin):
    seller = make.seller()
    product = pending_product(make, seller, certified=True)

    def uncheck(session):
        session.get(Product, product.id).certificate_checked = False
    make(uncheck)
    client.post_form(f"/admin/products/{product.id}/approve")
    p = load(app, Product, product.id)
    assert p.status == ProductStatus.listed and not p.certificate_checked


def test_reject_needs_a_reason_and_staff_see_it(app, client, make_client, make, admin):
    seller = make.seller()
    make.staff(seller, login="staff@example.test")
    product = pending_product(make, seller, name="模糊图片茶")
    resp = client.post_form(f"/admin/products/{product.id}/reject", {"reason": ""})
    assert resp.status_code == 400 and "请填写驳回原因" in text(resp)
    assert load(app, Product, product.id).status == ProductStatus.pending
    resp = client.post_form(f"/admin/products/{product.id}/reject", {"reason": "图片不清晰"})
    assert resp.status_code == 302
    p = load(app, Product, product.id)
    assert p.status == ProductStatus.rejected and p.review_note == "图片不清晰"
    staff = make_client()
    staff.login("staff@example.test")
    html = text(staff.get("/seller/products?status=rejected"))
    assert "模糊图片茶" in html and "图片不清晰" in html


def test_approving_a_product_that_is_not_pending_is_refused(app, client, make, admin):
    seller = make.seller()
    product = make.product(seller, status=ProductStatus.draft)
    resp = client.post_form(f"/admin/products/{product.id}/approve")
    assert resp.status_code == 409 and "只有待审核的商品可以通过审核" in text(resp)
    assert load(app, Product, product.id).status == ProductStatus.draft


# ---- users and roles --------------------------------------------------------------------------

def grants_of(app, user_id):
    with app.app_context():
        return sorted((str(g.role), g.seller_id, g.region_id)
                      for g in db.session.get(User, user_id).grants)


def test_search_users_by_email_and_mobile(app, client, make, admin):
    make.user(login="alice@example.test", name="爱丽丝")

    def mobile_user(session):
        from tests.fixtures.factories import make_user
        u = make_user(session, name="手机用户")
        u.email, u.mobile = None, "13912345678"
        return u
    make(mobile_user)
    html = text(client.get("/admin/users?q=ALICE"))
    assert "alice@example.test" in html and "手机用户" not in html
    html = text(client.get("/admin/users?q=1391234"))
    assert "13912345678" in html and "alice@example.test" not in html
    html = text(client.get("/admin/users?q=%25"))  # a wildcard is just a character
    assert "alice@example.test" not in html


def test_grant_and_revoke_roles(app, client, make, admin):
    seller = make.seller(name="授权合作社")
    user = make.user(login="bob@example.test")
    p = f"u{user.id}-"
    resp = client.post_form(f"/admin/users/{user.id}/grant",
                            {p + "role": "seller_staff", p + "seller_id": str(seller.id)})
    assert resp.status_code == 302, text(resp)[:2000]
    resp = client.post_form(f"/admin/users/{user.id}/grant",
                            {p + "role": "office", p + "region_code": "430525"})
    assert resp.status_code == 302
    with app.app_context():
        county = db.session.scalar(select(Region).where(Region.code == "430525"))
    assert grants_of(app, user.id) == [("buyer", None, None), ("office", None, county.id),
                                       ("seller_staff", seller.id, None)]
    html = text(client.get("/admin/users?q=bob"))
    assert "授权合作社" in html and "湖南省邵阳市洞口县" in html
    with app.app_context():
        grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == user.id,
                                                          RoleGrant.role == Role.office))
    resp = client.post_form(f"/admin/users/{user.id}/grants/{grant.id}/revoke")
    assert resp.status_code == 302
    assert [g[0] for g in grants_of(app, user.id)] == ["buyer", "seller_staff"]


@pytest.mark.parametrize("data, message", [
    ({"role": "office", "region_code": "999999"}, "请输入系统中已有的行政区划代码"),
    ({"role": "seller_staff", "seller_id": ""}, "请选择经营主体"),
    ({"role": "seller_staff", "seller_id": "99999"}, "请选择经营主体"),
    ({"role": "emperor"}, "请选择角色"),
])
def test_bad_grants_write_nothing(app, client, make, admin, data, message):
    user = make.user(login="carol@example.test")
    before = grants_of(app, user.id)
    p = f"u{user.id}-"
    resp = client.post_form(f"/admin/users/{user.id}/grant",
                            {p + k: v for k, v in data.items()})
    assert resp.status_code == 400 and message in text(resp)
    assert grants_of(app, user.id) == before


def test_revoking_an_unknown_grant_is_404(app, client, make, admin):
    user = make.user(login="dave@example.test")
    assert client.post_form(f"/admin/users/{user.id}/grants/99999/revoke").status_code == 404
    assert client.post_form("/admin/users/99999/grants/1/revoke").status_code == 404


# ---- regions ----------------------------------------------------------------------------------

def test_browse_the_region_tree(client, admin):
    html = text(client.get("/admin/regions"))
    assert "湖南省" in html and "/admin/regions/43" in html
    html = text(client.get("/admin/regions/430525"))
    assert "月溪镇" in html and "/admin/regions/430525101" in html
    assert "邵阳市" in html  # breadcrumb
    assert client.get("/admin/regions/000000").status_code == 404


def test_add_and_rename_regions(app, client, admin):
    resp = client.post_form("/admin/regions/430525101/add",
                            {"code": "430525101203", "name": "新建村"})
    assert resp.status_code == 302, text(resp)[:2000]
    with app.app_context():
        village = db.session.scalar(select(Region).where(Region.code == "430525101203"))
        assert village.name_path == "湖南省/邵阳市/洞口县/月溪镇/新建村"
    resp = client.post_form("/admin/regions/430525101/rename", {"rename-name": "月溪镇新"})
    assert resp.status_code == 302
    with app.app_context():
        village = db.session.scalar(select(Region).where(Region.code == "430525101203"))
        assert village.name_path == "湖南省/邵阳市/洞口县/月溪镇新/新建村"


@pytest.mark.parametrize("url, data, message", [
    ("/admin/regions/430525101/add", {"code": "431224210299", "name": "错位村"}, "上级必须是它的前"),
    ("/admin/regions/430525101/add", {"code": "430525101201", "name": "重复村"}, "已存在"),
    ("/admin/regions/430525101/add", {"code": "4305251012", "name": "短码"}, "必须是 2、4、6、9 或 12 位数字"),
    ("/admin/regions/430525101/rename", {"rename-name": "   "}, "名称不能为空"),
])
def test_bad_region_edits_write_nothing(app, client, admin, url, data, message):
    before = count(app, Region)
    resp = client.post_form(url, data)
    assert resp.status_code == 400 and message in text(resp)
    assert count(app, Region) == before
    with app.app_context():
        town = db.session.scalar(select(Region).where(Region.code == "430525101"))
        assert town.name == "月溪镇"


def csv_file(content: str, encoding: str = "utf-8"):
    return (io.BytesIO(content.encode(encoding)), "regions.csv")


def test_csv_import_is_all_or_nothing_and_names_every_bad_line(app, client, admin):
    before = count(app, Region)
    bad = ("code,name,parent_code\n"
           "430525102,石江镇,430525\n"
           "43052510,坏代码,430525\n"
           "430525102201,石江村,430525101\n"
           "431224210202,,431224210\n")
    resp = client.post_form("/admin/regions/import", {"file": csv_file(bad)})
    html = text(resp)
    assert resp.status_code == 400
    assert "未导入任何数据" in html
    assert "第 3 行" in html and "第 4 行" in html and "第 5 行" in html
    assert "第 2 行" not in html
    assert count(app, Region) == before

    good = ("code,name,parent_code\n"
            "430525102,石江镇,430525\n"
            "430525102201,石江村,430525102\n"
            "430525101201,洪溪村,430525101\n")
    resp = client.post_form("/admin/regions/import", {"file": csv_file(good, "gb18030")})
    assert resp.status_code == 302, text(resp)[:2000]
    assert count(app, Region) == before + 2
    html = text(client.get(resp.headers["Location"]))
    assert "新增 2 个" in html and "未变 1 个" in html


def test_csv_import_needs_a_file_and_a_header(app, client, admin):
    before = count(app, Region)
    resp = client.post_form("/admin/regions/import", {})
    assert resp.status_code == 400 and "请选择 CSV 文件" in text(resp)
    resp = client.post_form("/admin/regions/import", {"file": csv_file("a,b\n1,2\n")})
    assert resp.status_code == 400 and "表头必须是 code,name,parent_code" in text(resp)
    resp = client.post_form("/admin/regions/import",
                            {"file": csv_file("code,name,parent_code\n44,广东省,\n")},
                            csrf=False)
    assert resp.status_code == 400
    assert count(app, Region) == before
