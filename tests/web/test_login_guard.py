"""The sign-in guard on the log-in page and in the admin console: a login or an address with 10
failed sign-ins in 15 minutes waits (429, saying until when); the count lives in the database
(two app instances share it); a platform admin lists the locks and lifts one."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts.models import LoginFailure, Role
from marketplace.config import test_config
from marketplace.extensions import db
from tests.fixtures.app import Client
from tests.fixtures.factories import PASSWORD

ATTACKER = {"REMOTE_ADDR": "203.0.113.66"}


def attempt(client, login, password="wrong-pass1", environ=None):
    return client.post_form("/login", {"login": login, "password": password},
                            environ_base=environ or ATTACKER)


def test_an_account_waits_after_ten_failures_and_the_page_says_until_when(client, make):
    make.user(Role.buyer, login="li@example.test")
    statuses = [attempt(client, "li@example.test",
                        environ={"REMOTE_ADDR": f"203.0.113.{i}"}).status_code
                for i in range(10)]
    assert statuses == [400] * 9 + [429]
    resp = attempt(client, "li@example.test", PASSWORD, environ={"REMOTE_ADDR": "192.0.2.1"})
    assert resp.status_code == 429
    page = resp.get_data(as_text=True)
    assert "登录失败次数过多，请于北京时间 " in page and "之后再试" in page
    assert 0 < int(resp.headers["Retry-After"]) <= 15 * 60
    assert "欢迎回来" not in page and client.get("/account").status_code == 302


def test_an_address_waits_after_ten_failures_on_any_logins(client, make):
    make.user(Role.buyer, login="li@example.test")
    statuses = [attempt(client, f"guess{i}@example.test").status_code for i in range(10)]
    assert statuses == [400] * 9 + [429]
    assert attempt(client, "li@example.test", PASSWORD).status_code == 429
    # the account itself signs in from its owner's address
    assert attempt(client, "li@example.test", PASSWORD,
                   environ={"REMOTE_ADDR": "192.0.2.1"}).status_code == 302


def test_the_wait_is_shown_in_english_too(client, make):
    make.user(Role.buyer, login="li@example.test")
    client.get("/lang/en")
    for _ in range(10):
        resp = attempt(client, "li@example.test")
    assert resp.status_code == 429
    assert "Too many failed sign-ins: try again after" in resp.get_data(as_text=True)


def test_two_app_instances_count_the_same_failures(app, make, database_url, tmp_path):
    make.user(Role.buyer, login="li@example.test")
    other = create_app(test_config(tmp_path / "other", database_url))
    try:
        one, two = Client(app.test_client()), Client(other.test_client())
        for i in range(5):
            assert attempt(one, "li@example.test",
                           environ={"REMOTE_ADDR": f"203.0.113.{i}"}).status_code == 400
            status = attempt(two, "li@example.test",
                             environ={"REMOTE_ADDR": f"198.51.100.{i}"}).status_code
        assert status == 429  # the tenth failure, counted by the other instance
        assert attempt(one, "li@example.test", PASSWORD,
                       environ={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_an_admin_lists_and_lifts_a_lock(client, make, make_client, app):
    make.user(Role.buyer, login="li@example.test")
    make.user(Role.platform_admin, login="admin@example.test")
    robber = make_client()
    for i in range(10):  # the account, from many addresses; the robber's address, on others
        attempt(robber, "li@example.test", environ={"REMOTE_ADDR": f"198.51.100.{i}"})
        attempt(robber, f"guess{i}@example.test")
    assert attempt(robber, "li@example.test", PASSWORD,
                   environ={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429

    client.login("admin@example.test")
    page = client.get("/admin/logins")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "li@example.test" in text and "203.0.113.66" in text and "data-confirm" in text
    # the lift is a POST with its CSRF token
    assert client.post_form("/admin/logins/lift", {"kind": "login", "key": "li@example.test"},
                            csrf=False).status_code == 400
    resp = client.post_form("/admin/logins/lift", {"kind": "login", "key": "li@example.test"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/logins")
    assert "已解除锁定：li@example.test" in client.get("/admin/logins").get_data(as_text=True)
    owner = make_client()
    assert attempt(owner, "li@example.test", PASSWORD,
                   environ={"REMOTE_ADDR": "192.0.2.1"}).status_code == 302
    # the address still waits until it is lifted too
    assert attempt(robber, "someone@example.test").status_code == 429
    client.post_form("/admin/logins/lift", {"kind": "address", "key": "203.0.113.66"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 0
    # lifting what is not there says so
    client.post_form("/admin/logins/lift", {"kind": "address", "key": "203.0.113.66"})
    assert "没有找到该锁定" in client.get("/admin/logins").get_data(as_text=True)


def test_only_platform_admins_see_the_locks(client, make):
    make.user(Role.buyer, login="li@example.test")
    client.login("li@example.test")
    assert client.get("/admin/logins").status_code == 403
    assert client.post_form("/admin/logins/lift", {"kind": "login",
                                                   "key": "li@example.test"}).status_code == 403
