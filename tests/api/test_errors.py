"""An /api URL never answers HTML: unknown routes, wrong methods, bad bodies, big bodies."""
import pytest

from tests.api.conftest import assert_error


@pytest.mark.parametrize("method,url", [
    ("get", "/api/v1/whatever"),
    ("post", "/api/v1/whatever"),
    ("get", "/api/v1/products/1/nothing"),
    ("get", "/api/v2/products"),
    ("get", "/api/"),
    ("get", "/api/v1/seller/products/x"),
])
def test_unknown_routes_are_404_json(api, method, url):
    assert_error(getattr(api.client, method)(url), 404, "not_found")


@pytest.mark.parametrize("method,url,allowed", [
    ("delete", "/api/v1/products", {"GET", "HEAD", "OPTIONS"}),
    ("post", "/api/v1/products/1", {"GET", "HEAD", "OPTIONS"}),
    ("get", "/api/v1/auth/token", {"POST", "OPTIONS"}),
    ("get", "/api/v1/seller/products", {"POST", "OPTIONS"}),
    ("put", "/api/v1/seller/products/1", {"PATCH", "OPTIONS"}),
    ("post", "/api/v1/categories", {"GET", "HEAD", "OPTIONS"}),
])
def test_wrong_methods_are_405_json(api, method, url, allowed):
    resp = getattr(api.client, method)(url)
    assert_error(resp, 405, "method_not_allowed")
    assert {m.strip() for m in resp.headers["Allow"].split(",")} == allowed


def test_a_form_post_without_csrf_token_is_not_a_csrf_page(api):
    """The API is CSRF-exempt (bearer tokens, no cookies): a form post is just bad JSON."""
    assert_error(api.client.post("/api/v1/seller/products", data={"name": "x"}), 401)
    assert_error(api.client.post("/api/v1/auth/token", data={"login": "x"}), 400,
                 "invalid_json")


def test_too_large_body_is_413_json(api, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    resp = api.client.post("/api/v1/auth/token", data="x" * 4096,
                           content_type="application/json")
    assert_error(resp, 413)


def test_success_answers_are_json_too(api):
    for url in ("/api/v1/products", "/api/v1/categories", "/api/v1/openapi.json"):
        resp = api.get(url)
        assert resp.status_code == 200 and resp.mimetype == "application/json"
        assert resp.headers["Cache-Control"] == "no-store"


def test_web_pages_still_answer_html(api):
    resp = api.client.get("/no-such-page")
    assert resp.status_code == 404 and resp.mimetype == "text/html"


def test_an_unexpected_failure_is_500_json(api, monkeypatch):
    from marketplace.catalog import queries

    def boom(*args, **kwargs):
        raise RuntimeError("database on fire")
    monkeypatch.setattr(queries, "browse", boom)
    err = assert_error(api.get("/api/v1/products"), 500, "internal_error")
    assert "fire" not in err["message"]  # no internals in the answer
