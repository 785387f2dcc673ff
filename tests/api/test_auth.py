"""POST /api/v1/auth/token and bearer authentication."""
from marketplace.accounts.models import Role
from tests.api.conftest import assert_error


def test_token_for_good_credentials(api, make):
    seller = make.seller()
    user = make.staff(seller, login="staff@example.test")
    resp = api.post("/api/v1/auth/token", {"login": "staff@example.test",
                                           "password": "secret123"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["user"] == {"id": user.id, "roles": ["buyer", "seller_staff"]}
    assert isinstance(body["token"], str) and len(body["token"]) > 20
    assert body["token_type"] == "Bearer"


def test_login_is_case_insensitive_email(api, make):
    make.user(Role.buyer, login="mixed@example.test")
    resp = api.post("/api/v1/auth/token", {"login": "Mixed@Example.test",
                                           "password": "secret123"})
    assert resp.status_code == 200


def test_wrong_password_is_401_json(api, make):
    make.user(Role.buyer, login="b@example.test")
    err = assert_error(api.post("/api/v1/auth/token", {"login": "b@example.test",
                                                       "password": "wrong-pass1"}),
                       401, "unauthorized")
    assert "token" not in err


def test_unknown_login_is_401_json(api):
    assert_error(api.post("/api/v1/auth/token", {"login": "nobody@example.test",
                                                 "password": "secret123"}), 401, "unauthorized")


def test_missing_fields_and_wrong_types_are_400(api):
    err = assert_error(api.post("/api/v1/auth/token", {"login": "a@example.test"}), 400,
                       "validation_failed")
    assert "password" in err["details"]["fields"]
    err = assert_error(api.post("/api/v1/auth/token", {"login": 12, "password": ["x"]}), 400,
                       "validation_failed")
    assert set(err["details"]["fields"]) == {"login", "password"}


def test_non_json_body_is_400(api):
    assert_error(api.client.post("/api/v1/auth/token", data="login=a&password=b"), 400,
                 "invalid_json")
    assert_error(api.client.post("/api/v1/auth/token", data="{not json",
                                 content_type="application/json"), 400, "invalid_json")
    assert_error(api.post("/api/v1/auth/token", ["a", "b"]), 400, "invalid_json")


def test_token_opens_protected_route_and_bad_tokens_do_not(api, make):
    seller = make.seller()
    staff, headers = api.staff_headers(seller)
    # an empty JSON body gets past authentication to validation (400), not 401
    assert api.post("/api/v1/seller/products", {}, headers=headers).status_code == 400

    resp = api.post("/api/v1/seller/products", {})
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz",
                   headers["Authorization"] + "x"):
        assert_error(api.post("/api/v1/seller/products", {},
                              headers={"Authorization": header}), 401, "unauthorized")


def test_expired_token_is_401(api, app, make):
    seller = make.seller()
    _, headers = api.staff_headers(seller)
    app.config["API_TOKEN_MAX_AGE"] = -1  # every token is older than that
    err = assert_error(api.post("/api/v1/seller/products", {}, headers=headers), 401)
    assert "过期" in err["message"]


def test_a_new_password_invalidates_old_tokens(api, make):
    from marketplace.accounts.models import User
    from marketplace.accounts.services import set_password
    seller = make.seller()
    staff, headers = api.staff_headers(seller)

    def change(session):
        set_password(session.get(User, staff.id), "another-pass9")
    make(change)
    assert_error(api.post("/api/v1/seller/products", {}, headers=headers), 401)


def test_a_deactivated_user_cannot_get_or_use_a_token(api, make):
    from marketplace.accounts.models import User
    seller = make.seller()
    staff, headers = api.staff_headers(seller)

    def deactivate(session):
        session.get(User, staff.id).active = False
    make(deactivate)
    assert_error(api.post("/api/v1/seller/products", {}, headers=headers), 401)
    assert_error(api.post("/api/v1/auth/token", {"login": staff.email, "password": "secret123"}),
                 401)
