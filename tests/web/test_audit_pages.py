"""The audit log through the test client (both engines): the platform admins' list with its
filters and export (403 for everyone else), and each object's "操作记录" on its page, shown to
those who may see the object only."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from marketplace.accounts.models import Role
from marketplace.catalog.models import ProductStatus
from marketplace.sellers.models import SellerKind, SellerStatus
from tests.fixtures.factories import make_user, region, valid_id_number

HONGXI = "430525101201"  # 洞口县 月溪镇 洪溪村


def text(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.fixture
def admin(client, make):
    make.regions()
    user = make.user(Role.platform_admin, login="admin@example.test", name="管理员甲")
    client.login("admin@example.test")
    return user


# ---- the admin list -----------------------------------------------------------------------------

def test_only_platform_admins_see_the_log(client, make, make_client):
    make.regions()
    seller = make.seller()
    make.user(Role.buyer, login="buyer@example.test")
    make.staff(seller, login="staff@example.test")
    make(lambda s: make_user(s, Role.office, login="office@example.test",
                             region_obj=region(s, "430525")))
    make.user(Role.liaison, login="liaison@example.test")
    resp = client.get("/admin/audit")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    for login in ("buyer@example.test", "staff@example.test", "office@example.test",
                  "liaison@example.test"):
        browser = make_client()
        browser.login(login)
        assert browser.get("/admin/audit").status_code == 403, login
        assert browser.get("/admin/audit/export.csv").status_code == 403, login


def test_the_list_shows_decisions_and_filters_them(client, make, admin):
    seller = make.seller(name="待审合作社", status=SellerStatus.pending)
    other = make.seller(name="另一合作社")
    assert client.post_form(f"/admin/sellers/{seller.id}/verify").status_code == 302
    assert client.post_form(f"/admin/sellers/{other.id}/suspend",
                            {"note": "营业执照过期"}).status_code == 302
    user = make.user(login="someone@example.test")
    assert client.post_form(f"/admin/users/{user.id}/grant",
                            {f"u{user.id}-role": "office",
                             f"u{user.id}-region_code": "430525"}).status_code == 302

    html = text(client.get("/admin/audit"))
    assert "共 3 条" in html
    assert "经营主体通过认证" in html and "暂停经营主体" in html and "授予角色" in html
    assert "营业执照过期" in html and "管理员甲" in html
    assert "待审核 → 已认证" in html and "帮扶办" in html and "430525" in html

    only = text(client.get("/admin/audit?action=seller_suspended"))
    assert "共 1 条" in only and "营业执照过期" in only
    assert "共 1 条" in text(client.get(f"/admin/audit?object_type=seller&object_id={seller.id}"))
    assert "共 1 条" in text(client.get("/admin/audit?object_type=user"))
    assert "共 3 条" in text(client.get(f"/admin/audit?actor={admin.id}"))
    assert "共 3 条" in text(client.get("/admin/audit?actor=管理员"))
    assert "共 0 条" in text(client.get("/admin/audit?actor=nobody"))
    today = date.today()
    assert "共 0 条" in text(client.get(
        f"/admin/audit?from={(today + timedelta(days=2)).isoformat()}"))
    assert "共 3 条" in text(client.get(
        f"/admin/audit?from={(today - timedelta(days=1)).isoformat()}"
        f"&to={(today + timedelta(days=1)).isoformat()}"))
    # what is not understood narrows nothing and is no error
    assert "共 3 条" in text(client.get("/admin/audit?action=nope&from=2026-13-45&object_id=x"))

    csv = client.get("/admin/audit/export.csv?action=seller_suspended")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data(as_text=True)
    assert body.startswith("\ufeff") and "营业执照过期" in body and "经营主体通过认证" not in body


def test_the_list_pages(client, make, admin):
    def many(session):
        from marketplace.audit.services import record
        for i in range(55):
            record(session, None, "role_granted", "user", admin.id, after={"role": "buyer"})
    make(many)
    first = text(client.get("/admin/audit"))
    assert "共 55 条" in first and "第 1 / 2 页" in first and "系统" in first
    assert "第 2 / 2 页" in text(client.get("/admin/audit?page=2"))


# ---- each object's page -------------------------------------------------------------------------

def test_a_sellers_row_shows_its_entries(client, make, admin):
    seller = make.seller(name="被暂停合作社")
    client.post_form(f"/admin/sellers/{seller.id}/suspend", {"note": "抽检不合格"})
    html = text(client.get("/admin/sellers?status=suspended"))
    assert "操作记录（1）" in html and "已认证 → 已暂停" in html and "抽检不合格" in html
    assert f"/admin/audit?object_type=seller&amp;object_id={seller.id}" in html


def test_a_resubmitted_products_review_shows_its_rejection(client, make, admin):
    from marketplace.catalog import services as catalog
    from marketplace.catalog.models import Product
    product = make.product(name="待审云雾茶", status=ProductStatus.pending)
    client.post_form(f"/admin/products/{product.id}/reject", {"reason": "图片模糊"})

    def resubmit(session):
        p = session.get(Product, product.id)
        catalog.submit_for_review(session, make_user(session, Role.platform_admin), p)
    make(resubmit)
    html = text(client.get("/admin/products"))
    assert "待审云雾茶" in html and "操作记录（1）" in html
    assert "商品审核驳回" in html and "图片模糊" in html


def test_a_users_row_shows_role_changes(client, make, admin):
    user = make.user(login="someone@example.test")
    client.post_form(f"/admin/users/{user.id}/grant", {f"u{user.id}-role": "liaison"})
    html = text(client.get("/admin/users?q=someone"))
    assert "操作记录（1）" in html and "授予角色" in html and "帮扶联络人" in html


def test_a_households_page_shows_its_entries_to_those_who_may_see_it(client, make, make_client):
    make.regions()
    office = make(lambda s: make_user(s, Role.office, login="office@example.test",
                                      name="洞口县帮扶办", region_obj=region(s, "430525")))
    make(lambda s: make_user(s, Role.office, login="far@example.test",
                             region_obj=region(s, "431224")))
    liaison = make.user(Role.liaison, login="liaison@example.test", name="联络人甲")
    client.login("office@example.test")
    resp = client.post_form("/households/new", {
        "village_code": HONGXI, "head_name": "王建国", "id_number": valid_id_number(11),
        "size": "4", "status": "poor", "liaison_id": str(liaison.id)})
    assert resp.status_code == 302

    from marketplace.extensions import db
    from marketplace.households.models import Household
    with client.application.app_context():
        household_id = db.session.query(Household.id).scalar()
    url = f"/households/{household_id}/statement"
    page = text(client.get(url))
    assert "操作记录" in page and "登记帮扶对象" in page and "洞口县帮扶办" in page
    assert "王*国" in page and "建档立卡户" in page
    assert f"#{office.id}" in page

    mine = make_client()
    mine.login("liaison@example.test")
    mine.post_form(f"/households/{household_id}/public",
                   {"action": "open", "method": "户主书面签字"})
    page = text(mine.get(url))
    assert "开启公开页面（户主同意）" in page and "户主书面签字" in page
    assert "登记帮扶对象" in page

    far = make_client()
    far.login("far@example.test")
    assert far.get(url).status_code == 404


def test_the_lots_page_shows_deleted_lots(client, make):
    make.regions()
    household = make.household(n=6161)
    seller = make.seller(name="古楼茶叶专业合作社", kind=SellerKind.cooperative,
                         members=[(household, 1)])
    make.staff(seller, login="staff@example.test")
    tea = make.product(seller, name="古楼云雾茶")
    client.login("staff@example.test")
    page = text(client.get("/seller/lots"))
    assert "暂无操作记录。" in page
    client.post_form("/seller/lots", {"product_id": str(tea.id), "household_code": household.code,
                                      "quantity": "20", "unit_price": "15.50",
                                      "purchased_on": date.today().isoformat()})
    from marketplace.extensions import db
    from marketplace.ledger.models import SupplyLot
    with client.application.app_context():
        lot_id = db.session.query(SupplyLot.id).scalar()
    client.post_form(f"/seller/lots/{lot_id}/remove")
    page = text(client.get("/seller/lots"))
    assert "删除收购批次" in page and "古楼云雾茶" in page and household.code in page

    other = make.seller(name="别家合作社")
    make.staff(other, login="other@example.test")
    client.logout()
    client.login("other@example.test")
    assert "删除收购批次" not in text(client.get("/seller/lots"))
