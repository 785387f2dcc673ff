"""Hostile and careless input through the web pages: huge numbers, hidden characters, bad
`next` targets. Never a 500, a clear message naming the field, nothing written. Also the
security headers and compression every response carries (both engines)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.catalog.models import Product
from marketplace.extensions import db

HUGE = "9223372036854775808"
BIGGER = "99999999999999999999"
HIDDEN = {
    "nul": "茶\x00叶", "escape": "茶\x1b[31m叶", "rlo": "茶\u202e叶", "isolate": "茶\u2066叶",
    "zero-width": "茶\u200b叶", "bom": "\ufeff茶叶", "newline": "茶\n叶",
}


def _no_500(resp):
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
    return resp


@pytest.mark.parametrize("url", [
    f"/products?seller={HUGE}", f"/products?seller={BIGGER}", f"/products?min_price={HUGE}",
    f"/products?page={BIGGER}", f"/products?per_page={HUGE}", f"/products/{BIGGER}",
    f"/products/1?img={BIGGER}", f"/checkout?address={HUGE}", f"/sellers/{HUGE}",
    "/products?q=%ED%B2%80", "/products?q=%00", "/lang/zh?next=/%0A/x",
    "/lang/zh?next=/%0D%0ASet-Cookie:x=1", "/lang/zh?next=%E2%80%AE//x",
])
def test_hostile_query_strings_are_never_a_500(client, url):
    _no_500(client.get(url))


@pytest.mark.parametrize("value", [HUGE, BIGGER, "-" + BIGGER, "1e99", "١٢"])
def test_huge_ids_in_forms_are_refused_quietly(app, client, make, value):
    user = make.user(Role.buyer)
    client.login(user.email)
    for url, data in (("/cart/add", {"product_id": value, "quantity": "1"}),
                      ("/cart/add", {"product_id": "1", "quantity": value}),
                      ("/cart/update", {"product_id": value, "quantity": value}),
                      ("/cart/remove", {"product_id": value})):
        _no_500(client.post_form(url, data))


def test_the_seller_console_answers_400_to_an_impossible_seller(client, make):
    seller = make.seller()
    staff = make.staff(seller)
    client.login(staff.email)
    for raw in (HUGE, BIGGER, "abc", "-1"):
        resp = client.get(f"/seller/products?seller={raw}")
        assert resp.status_code == 400 and "经营主体编号无效" in resp.get_data(as_text=True)
    assert client.get("/seller/products?seller=12345678").status_code == 404  # another's
    assert client.get(f"/seller/products?seller={seller.id}").status_code == 200


@pytest.mark.parametrize("kind", sorted(HIDDEN))
def test_hidden_characters_in_a_display_name_are_refused_by_name(app, client, kind):
    resp = client.post_form("/register", {"login": "new@example.com", "password": "abc12345x",
                                          "display_name": HIDDEN[kind]})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert re.search("控制字符|零宽字符|方向控制符", body), body[:3000]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_lone_surrogate_in_a_login_form_is_no_500(app, client):
    data = "login=%ED%B2%80&password=%ED%B2%80x1&csrf_token=" + client.csrf_token()
    resp = client.raw.post("/login", data=data,
                           content_type="application/x-www-form-urlencoded")
    _no_500(resp)


def test_a_product_description_keeps_its_lines_but_not_hidden_characters(app, client, make):
    seller = make.seller()
    staff = make.staff(seller)
    client.login(staff.email)
    product = make.product(seller, name="雪峰茶")
    url = f"/seller/products/{product.id}/edit?seller={seller.id}"
    page = client.get(url)
    assert page.status_code == 200
    form = {"name": "雪峰茶", "spec": "250克", "price": "45.00", "stock": "50",
            "category": "tea", "origin_code": "430525101201",
            "description": "第一行\r\n第二行\t好茶"}
    bad = dict(form, name="雪峰\u202e茶")
    resp = client.post_form(url, bad)
    assert resp.status_code == 400 and "方向控制符" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Product, product.id).name == "雪峰茶"
    resp = client.post_form(url, form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    with app.app_context():
        assert db.session.get(Product, product.id).description == "第一行\n第二行\t好茶"


@pytest.mark.parametrize("path", ["/", "/products", "/login", "/no-such-page",
                                  "/api/v1/categories", "/api/v1/nothing"])
def test_every_response_carries_the_security_headers(client, path):
    resp = client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in resp.headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in resp.headers


def test_hsts_only_with_secure_cookies(database_url, tmp_path):
    from marketplace.app import create_app
    app = create_app({"MARKETPLACE_MODE": "test", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "SECURE_COOKIES": True, "UPLOAD_FOLDER": str(tmp_path / "u"),
                      "SEARCH_INDEX_DIR": str(tmp_path / "s")})
    resp = app.test_client().get("/lang/zh")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")


def test_pages_are_compressed(client, make):
    make.product(name="压缩测试茶")
    resp = client.get("/products", headers={"Accept-Encoding": "gzip"})
    assert resp.headers.get("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in resp.headers.get("Vary", "")
    import gzip
    assert "压缩测试茶" in gzip.decompress(resp.data).decode()
    plain = client.get("/products")
    assert "Content-Encoding" not in plain.headers


TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_no_template_has_an_inline_script_or_event_handler():
    """The CSP refuses them: a template that used one would silently stop working."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    found = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if inline_script.search(text) or handler.search(text) or "javascript:" in text:
            found.append(path.name)
    assert found == []
