"""The whole web journey through the test client, on both engines: register, log in, apply as a
cooperative, an admin verifies, staff create a product with an image and submit it, an admin
approves, shoppers see it, staff delist it, shoppers no longer see it."""
from __future__ import annotations

import io
import re

from flask import url_for
from sqlalchemy import select

from marketplace.accounts.models import Role, User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.extensions import db
from marketplace.sellers.models import Seller, SellerStatus
from tests.fixtures.factories import image_bytes, valid_credit_code

COOP = "洞口县古楼茶叶专业合作社"
TEA = "古楼雪峰云雾茶 特级"


def urls(app, endpoint: str, **values) -> str:
    with app.test_request_context():
        return url_for(endpoint, **values)


def fetch(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(model).where(*where))


def test_register_apply_verify_list_approve_delist(app, client, make_client, make):
    make.regions()
    make.user(Role.platform_admin, login="admin@example.test")

    # register with an e-mail address, log out, log in again
    resp = client.post_form("/register", {"login": "wang@example.test", "display_name": "王社长",
                                          "password": "guloutea2024", "confirm": "guloutea2024"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:1500]
    client.logout()
    client.login("wang@example.test", "guloutea2024")

    # apply as a cooperative with a valid credit code
    assert client.get("/seller/apply").status_code == 200
    code = valid_credit_code(901)
    resp = client.post_form("/seller/apply", {
        "kind": "cooperative", "name": COOP, "region_code": "430525101",
        "contact_name": "王五", "contact_mobile": "138 0013 8001", "credit_code": code,
        "description": "古楼村茶农合作社"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    seller = fetch(app, Seller, Seller.name == COOP)
    assert seller.status == SellerStatus.pending and seller.credit_code == code
    html = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "等待平台审核" in html and COOP in html
    user = fetch(app, User, User.email == "wang@example.test")
    with app.app_context():
        assert db.session.get(User, user.id).seller_ids() == {seller.id}

    # a platform admin sees it in the queue and verifies it
    admin = make_client()
    admin.login("admin@example.test")
    html = admin.get("/admin/sellers?status=pending").get_data(as_text=True)
    assert COOP in html and code in html and "wang@example.test" in html
    resp = admin.post_form(f"/admin/sellers/{seller.id}/verify")
    assert resp.status_code == 302
    assert fetch(app, Seller, Seller.id == seller.id).status == SellerStatus.verified

    # staff create a product with a PNG image and submit it for review
    assert client.get("/seller/products/new").status_code == 200
    resp = client.post_form("/seller/products/new", {
        "name": TEA, "category": "tea", "spec": "250g/罐", "description": "高山云雾茶园",
        "price": "128.50", "stock": "40", "origin_code": "430525101202",
        "certificate_no": "湘帮扶认字2024-017", "certificate_valid_until": "2030-12-31",
        "images": (io.BytesIO(image_bytes()), "tea.png"), "action": "submit"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    product = fetch(app, Product, Product.name == TEA)
    assert product.status == ProductStatus.pending
    assert product.price_fen == 12850 and product.seller_id == seller.id
    assert len(product.images) == 1
    assert resp.headers["Location"].endswith(f"/seller/products/{product.id}/edit")

    # not visible before approval
    shopper = make_client()
    product_url = urls(app, "storefront.product", product_id=product.id)
    catalog_url = urls(app, "storefront.catalog")
    assert shopper.get(product_url).status_code == 404

    # the admin approves it, with the certificate checked
    html = admin.get("/admin/products").get_data(as_text=True)
    assert TEA in html and "湘帮扶认字2024-017" in html and "¥128.50" in html
    assert product.images[0].thumb_filename in html
    resp = admin.post_form(f"/admin/products/{product.id}/approve", {"certificate_checked": "y"})
    assert resp.status_code == 302
    listed = fetch(app, Product, Product.id == product.id)
    assert listed.status == ProductStatus.listed and listed.certificate_checked

    # shoppers see it: product page and catalogue
    resp = shopper.get(product_url)
    assert resp.status_code == 200 and TEA in resp.get_data(as_text=True)
    assert TEA in shopper.get(catalog_url).get_data(as_text=True)

    # staff delist it; it is gone for shoppers
    resp = client.post_form(f"/seller/products/{product.id}/delist")
    assert resp.status_code == 302
    assert fetch(app, Product, Product.id == product.id).status == ProductStatus.delisted
    assert shopper.get(product_url).status_code == 404
    assert TEA not in shopper.get(catalog_url).get_data(as_text=True)
    html = client.get("/seller/products?status=delisted").get_data(as_text=True)
    assert TEA in html and re.search(r"已下架\s*1", html)
