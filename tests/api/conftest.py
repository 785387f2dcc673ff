"""Helpers for API tests: tokens for users made by factories, JSON requests, error shapes."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from tests.fixtures.factories import PASSWORD


class Api:
    def __init__(self, app, make):
        self.app = app
        self.make = make
        self.client = app.test_client()

    def token(self, login: str, password: str = PASSWORD) -> str:
        resp = self.client.post("/api/v1/auth/token", json={"login": login,
                                                             "password": password})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return resp.get_json()["token"]

    def auth(self, login: str) -> dict:
        return {"Authorization": f"Bearer {self.token(login)}"}

    def user_headers(self, *roles, **kw) -> tuple:
        user = self.make.user(*roles, **kw)
        return user, self.auth(user.email)

    def staff_headers(self, seller) -> tuple:
        user = self.make.staff(seller)
        return user, self.auth(user.email)

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, json=None, **kw):
        return self.client.post(url, json=json, **kw)

    def patch(self, url, json=None, **kw):
        return self.client.patch(url, json=json, **kw)


@pytest.fixture
def api(app, make):
    return Api(app, make)


@pytest.fixture
def buyer_headers(api):
    return api.user_headers(Role.buyer)[1]


def assert_error(resp, status: int, code: str | None = None) -> dict:
    """The response is the contract's JSON error with this status (and code)."""
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json", resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]
