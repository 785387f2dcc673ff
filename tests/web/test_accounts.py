from sqlalchemy import func, select

from marketplace.accounts.models import Role, User
from marketplace.extensions import db


def n_users(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_register_login_logout(client, app):
    page = client.get("/register")
    assert page.status_code == 200 and "注册账号" in page.get_data(as_text=True)
    resp = client.post_form("/register", {"login": "13900139000", "display_name": "小王",
                                          "password": "abc12345", "confirm": "abc12345"})
    assert resp.status_code == 302
    assert "小王" in client.get("/").get_data(as_text=True)
    client.logout()
    assert "小王" not in client.get("/").get_data(as_text=True)
    client.login("+86 139 0013 9000", "abc12345")
    assert "小王" in client.get("/account").get_data(as_text=True)


def test_register_errors_are_shown_in_chinese_and_nothing_is_written(client, app):
    before = n_users(app)
    cases = [
        ({"login": "nobody", "password": "abc12345", "confirm": "abc12345"}, "有效的邮箱地址"),
        ({"login": "a@b.cn", "password": "abc", "confirm": "abc"}, "至少需要 8 位"),
        ({"login": "a@b.cn", "password": "abc12345", "confirm": "abc12346"}, "两次输入的密码不一致"),
    ]
    for data, message in cases:
        resp = client.post_form("/register", {"display_name": "x", **data})
        assert resp.status_code == 400
        assert message in resp.get_data(as_text=True)
    assert n_users(app) == before


def test_duplicate_registration(client, make, app):
    make.user(Role.buyer, login="taken@example.com")
    resp = client.post_form("/register", {"login": "TAKEN@example.com", "display_name": "x",
                                          "password": "abc12345", "confirm": "abc12345"})
    assert resp.status_code == 400 and "已注册" in resp.get_data(as_text=True)


def test_wrong_password(client, make):
    make.user(Role.buyer, login="li@example.com")
    resp = client.post_form("/login", {"login": "li@example.com", "password": "nope12345"})
    assert resp.status_code == 400 and "账号或密码不正确" in resp.get_data(as_text=True)


def test_form_without_csrf_token_is_refused(client, app):
    before = n_users(app)
    resp = client.post_form("/register", {"login": "x@example.com", "display_name": "x",
                                          "password": "abc12345", "confirm": "abc12345"},
                            csrf=False)
    assert resp.status_code == 400
    assert "安全令牌" in resp.get_data(as_text=True)
    assert n_users(app) == before
    resp = client.post_form("/register", {"login": "x@example.com", "display_name": "x",
                                          "password": "abc12345", "confirm": "abc12345",
                                          "csrf_token": "forged"}, csrf=False)
    assert resp.status_code == 400 and n_users(app) == before


def test_open_redirect_is_refused(client, make):
    make.user(Role.buyer, login="li@example.com")
    resp = client.post_form("/login?next=https://evil.example/", {"login": "li@example.com",
                                                                  "password": "secret123"})
    assert resp.status_code == 302 and "evil" not in resp.headers["Location"]


def test_account_page_needs_login(client):
    resp = client.get("/account")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_change_password(client, make):
    make.user(Role.buyer, login="li@example.com")
    client.login("li@example.com")
    resp = client.post_form("/account", {"current": "wrong", "password": "newpass123",
                                         "confirm": "newpass123"})
    assert "当前密码不正确" in resp.get_data(as_text=True)
    resp = client.post_form("/account", {"current": "secret123", "password": "newpass123",
                                         "confirm": "newpass123"})
    assert resp.status_code == 302
    client.logout()
    client.login("li@example.com", "newpass123")
