"""POST /api/v1/auth/token under the sign-in guard (429 too_many_attempts with the time to wait),
and what a token carries and what ends it."""
from __future__ import annotations

from datetime import datetime, timedelta

from itsdangerous import URLSafeTimedSerializer

from marketplace.accounts.models import Role, User
from marketplace.accounts.services import TOKEN_SALT, sign_out_everywhere
from marketplace.core.time import now_utc
from tests.api.conftest import assert_error
from tests.fixtures.factories import PASSWORD

URL = "/api/v1/auth/token"


def ask(api, login, password="wrong-pass1", address="203.0.113.66"):
    return api.client.post(URL, json={"login": login, "password": password},
                           environ_base={"REMOTE_ADDR": address})


def test_an_account_waits_after_ten_failures(api, make):
    make.user(Role.buyer, login="li@example.test")
    statuses = [ask(api, "li@example.test", address=f"198.51.100.{i}").status_code
                for i in range(10)]
    assert statuses == [401] * 9 + [429]
    resp = ask(api, "li@example.test", PASSWORD, address="192.0.2.1")
    err = assert_error(resp, 429, "too_many_attempts")
    until = datetime.fromisoformat(err["details"]["until"])
    assert now_utc() < until <= now_utc() + timedelta(minutes=15)
    assert "登录失败次数过多" in err["message"]
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    assert "token" not in resp.get_json()


def test_an_address_waits_after_ten_failures(api, make):
    make.user(Role.buyer, login="li@example.test")
    statuses = [ask(api, f"guess{i}@example.test").status_code for i in range(10)]
    assert statuses == [401] * 9 + [429]
    assert_error(ask(api, "li@example.test", PASSWORD), 429, "too_many_attempts")
    assert ask(api, "li@example.test", PASSWORD, address="192.0.2.1").status_code == 200


def test_the_message_is_english_for_english_readers(api):
    with api.client.session_transaction() as session:
        session["lang"] = "en"
    for _ in range(10):
        resp = ask(api, "x@example.test")
    err = assert_error(resp, 429, "too_many_attempts")
    assert err["message"].startswith("Too many failed sign-ins: try again after")


def test_the_token_carries_nothing_of_the_password(api, app, make):
    user = make.user(Role.buyer, login="li@example.test")
    token = api.token("li@example.test")
    payload = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=TOKEN_SALT).loads(token)
    assert payload == {"uid": user.id, "gen": 0}
    stored = user.password_hash
    decoded = str(payload) + token
    assert not any(stored[i:i + 8] in decoded for i in range(len(stored) - 7))


def test_signing_out_everywhere_ends_the_tokens(api, make):
    seller = make.seller()
    staff, headers = api.staff_headers(seller)
    assert api.post("/api/v1/seller/products", {}, headers=headers).status_code == 400
    make(lambda session: sign_out_everywhere(session, session.get(User, staff.id)))
    assert_error(api.post("/api/v1/seller/products", {}, headers=headers), 401, "unauthorized")
    fresh = api.auth(staff.email)
    assert api.post("/api/v1/seller/products", {}, headers=fresh).status_code == 400


def test_the_openapi_document_names_the_wait(api):
    doc = api.get("/api/v1/openapi.json").get_json()
    token = doc["paths"]["/api/v1/auth/token"]["post"]
    assert "429" in token["responses"] and "too_many_attempts" in token["description"]
    assert "details.until" in doc["components"]["responses"]["E429"]["description"]
