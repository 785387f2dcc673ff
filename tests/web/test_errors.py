from flask import Blueprint


def test_404_page_in_chinese_and_english(client):
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert "页面不存在" in resp.get_data(as_text=True)
    client.get("/lang/en")
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    assert 'lang="en"' in resp.get_data(as_text=True)
    assert "Page not found" in resp.get_data(as_text=True)


def test_unexpected_error_gives_a_friendly_500(app):
    bp = Blueprint("boom", __name__)

    @bp.route("/boom")
    def boom():
        raise RuntimeError("kaput")

    app.register_blueprint(bp)
    resp = app.test_client().get("/boom")
    assert resp.status_code == 500
    body = resp.get_data(as_text=True)
    assert "服务器开小差了" in body and "kaput" not in body


def test_uploads_are_served_and_paths_cannot_escape(client, app):
    from pathlib import Path
    (Path(app.config["UPLOAD_FOLDER"]) / "ok.jpg").write_bytes(b"\xff\xd8data")
    assert client.get("/media/ok.jpg").status_code == 200
    assert client.get("/media/..%2Fconfig.py").status_code == 404
    assert client.get("/media/missing.jpg").status_code == 404


def test_language_switch_redirects_only_locally(client):
    resp = client.get("/lang/en?next=https://evil.example/")
    assert resp.status_code == 302 and "evil" not in resp.headers["Location"]
    resp = client.get("/lang/xx?next=/products")
    assert resp.headers["Location"].endswith("/products")


def test_an_id_too_large_for_the_database_is_404_not_500(client):
    assert client.get("/products/99999999999999999999999").status_code == 404
    resp = client.get("/api/v1/products/99999999999999999999999")
    assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
