"""What ends a signed-in browser: log-out, a new password, a role revoked and signing out
everywhere end every session cookie and remember cookie of the user issued before, replayed
from another browser; the browser that changed the password or signed out the others stays
signed in. Cookie flags: HttpOnly, SameSite=Lax, Secure with SECURE_COOKIES."""
from __future__ import annotations

import pytest

from marketplace import create_app
from marketplace.accounts import services
from marketplace.accounts.models import Role, User
from marketplace.config import test_config
from marketplace.extensions import db
from tests.fixtures.app import Client

SESSION, REMEMBER = "session", "remember_token"


def signed_in(make_client, login, *, remember=False) -> Client:
    browser = make_client()
    resp = browser.post_form("/login", {"login": login, "password": "secret123",
                                        **({"remember": "y"} if remember else {})})
    assert resp.status_code == 302
    return browser


def cookie(browser: Client, name: str) -> str:
    found = browser.raw.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def replay(app, **cookies) -> int:
    """GET /account in a fresh browser holding only these cookies: 200 signed in, 302 not."""
    fresh = app.test_client()
    for name, value in cookies.items():
        fresh.set_cookie(name, value)
    return fresh.get("/account").status_code


@pytest.fixture
def li(make):
    return make.user(Role.buyer, Role.liaison, login="li@example.test")


@pytest.fixture
def phone(make_client, li):
    """Li signed in on a phone with "remember me"."""
    return signed_in(make_client, "li@example.test", remember=True)


@pytest.fixture
def stolen(app, phone):
    """The phone's cookies, copied: each works alone now."""
    cookies = {"session": cookie(phone, SESSION), "remember": cookie(phone, REMEMBER)}
    assert replay(app, session=cookies["session"]) == 200
    assert replay(app, remember_token=cookies["remember"]) == 200
    return cookies


def token_for(app, login: str) -> str:
    resp = app.test_client().post("/api/v1/auth/token",
                                  json={"login": login, "password": "secret123"})
    assert resp.status_code == 200
    return resp.get_json()["token"]


def token_works(app, token: str) -> bool:
    """A bearer token on GET /api/v1/orders/<unknown>: 404 past authentication, 401 before."""
    status = app.test_client().get("/api/v1/orders/999999",
                                   headers={"Authorization": f"Bearer {token}"}).status_code
    assert status in (401, 404)
    return status == 404


def assert_dead(app, cookies):
    assert replay(app, session=cookies["session"]) == 302
    assert replay(app, remember_token=cookies["remember"]) == 302
    assert replay(app, session=cookies["session"], remember_token=cookies["remember"]) == 302


def test_log_out_ends_the_session_and_the_remember_cookie(app, phone, stolen):
    token = token_for(app, "li@example.test")
    assert phone.logout().status_code == 302
    assert_dead(app, stolen)
    assert phone.get("/account").status_code == 302
    assert not token_works(app, token)


def test_a_new_password_ends_the_other_browsers_and_keeps_this_one(app, make_client,
                                                                   stolen):
    token = token_for(app, "li@example.test")
    laptop = signed_in(make_client, "li@example.test", remember=True)
    resp = laptop.post_form("/account", {"current": "secret123", "password": "newpass123",
                                         "confirm": "newpass123"})
    assert resp.status_code == 302
    assert_dead(app, stolen)
    assert laptop.get("/account").status_code == 200
    # the laptop is remembered again, in the new generation
    assert replay(app, remember_token=cookie(laptop, REMEMBER)) == 200
    assert not token_works(app, token)


def test_a_revoked_role_ends_the_users_sessions(app, make, stolen, li):
    def revoke(session):
        user = session.get(User, li.id)
        services.revoke_grant(session, user, next(g.id for g in user.grants
                                                  if g.role == Role.liaison))
    token = token_for(app, "li@example.test")
    make(revoke)
    assert_dead(app, stolen)
    assert not token_works(app, token)


def test_a_role_revoked_by_an_admin_in_the_console(app, client, make, stolen, li):
    make.user(Role.platform_admin, login="admin@example.test")
    client.login("admin@example.test")
    grant = next(g for g in li.grants if g.role == Role.liaison)
    resp = client.post_form(f"/admin/users/{li.id}/grants/{grant.id}/revoke")
    assert resp.status_code == 302
    assert_dead(app, stolen)
    assert client.get("/admin/users").status_code == 200  # the admin's own session lives on


def test_signing_out_everywhere_ends_the_others_and_keeps_this_one(app, make_client, stolen):
    token = token_for(app, "li@example.test")
    assert token_works(app, token)
    laptop = signed_in(make_client, "li@example.test")
    page = laptop.get("/account").get_data(as_text=True)
    assert "/account/sign-out-everywhere" in page and "data-confirm" in page
    # a POST with its CSRF token only
    assert laptop.post_form("/account/sign-out-everywhere", csrf=False).status_code == 400
    assert replay(app, session=stolen["session"]) == 200
    resp = laptop.post_form("/account/sign-out-everywhere")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account")
    assert_dead(app, stolen)
    page = laptop.get("/account")
    assert page.status_code == 200 and "已退出其他所有设备上的登录" in page.get_data(as_text=True)
    assert laptop.raw.get_cookie(REMEMBER) is None  # not remembered before, not now
    assert not token_works(app, token)
    assert token_works(app, token_for(app, "li@example.test"))


def test_signing_out_everywhere_needs_a_signed_in_user(client):
    resp = client.post_form("/account/sign-out-everywhere")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_the_cookies_carry_no_password_and_their_flags(app, make_client, li):
    phone = signed_in(make_client, "li@example.test", remember=True)
    remember = phone.raw.get_cookie(REMEMBER)
    assert remember.http_only and remember.same_site == "Lax" and not remember.secure
    assert remember.value.startswith(f"{li.id}:0|")  # the id and the generation, signed
    session_cookie = phone.raw.get_cookie(SESSION)
    assert session_cookie.http_only and session_cookie.same_site == "Lax"


def test_secure_cookies_when_configured(database_url, tmp_path, make):
    secure = create_app({**test_config(tmp_path / "secure", database_url),
                         "SECURE_COOKIES": True})
    try:
        make.user(Role.buyer, login="li@example.test")
        browser = Client(secure.test_client())
        resp = browser.post_form("/login", {"login": "li@example.test",
                                            "password": "secret123", "remember": "y"})
        assert resp.status_code == 302
        cookies = "\n".join(resp.headers.getlist("Set-Cookie"))
        assert cookies.count("Secure") == 2, cookies
        assert "remember_token=" in cookies and "session=" in cookies
    finally:
        with secure.app_context():
            db.session.remove()
            db.engine.dispose()
