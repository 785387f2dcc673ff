"""GET /api/v1/pool and POST /api/v1/pool/donations (both engines): the DESIGN shape, masked
allocations, donations paid with a receipt number, bad input answered in Chinese with nothing
written."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.help.pool import allocations, donations
from marketplace.help.pool.models import Donation
from tests.api.conftest import assert_error
from tests.fixtures.factories import make_household, make_user, region
from tests.services.test_pool import make_need

URL = "/api/v1/pool"


def count(make, model=Donation):
    return make(lambda session: session.scalar(select(func.count()).select_from(model)))


def test_the_pool_is_public_and_masked(api, make):
    def build(session):
        office = make_user(session, Role.office, region_obj=region(session, "430525"))
        donor = make_user(session)
        need = make_need(session, make_household(session, name="张三明"))
        donations.donate(session, donor, 30_000)
        allocations.allocate(session, office, need, 12_000, "学费")
    make(build)
    body = api.get(URL).get_json()
    assert body["received"] == {"amount": 30_000, "currency": "CNY"}
    assert body["allocated"]["amount"] == 12_000 and body["balance"]["amount"] == 18_000
    assert body["allocations"][0]["household"] == "张*明"
    assert body["allocations"][0]["village"] == "洪溪村" and body["total"] == 1
    assert body["pledges"] == []
    assert_error(api.get(URL + "?page=0"), 400, "validation_failed")


def test_a_donor_gives_through_the_api(api, make):
    _user, headers = api.user_headers(Role.buyer)
    resp = api.post(URL + "/donations", {"amount": {"amount": 5_000, "currency": "CNY"},
                                         "provider": "simulated", "display_name": "小李"},
                    headers=headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["status"] == "paid" and body["receipt_no"].startswith("JZ")
    assert body["amount"]["amount"] == 5_000 and resp.headers["Location"] == body["receipt_url"]
    assert api.get(URL).get_json()["received"]["amount"] == 5_000


@pytest.mark.parametrize("payload, field", [
    ({"amount": 5000}, "amount"),
    ({"amount": {"amount": 0, "currency": "CNY"}}, "amount"),
    ({"amount": {"amount": 100, "currency": "USD"}}, "amount"),
    ({"amount": {"amount": 100, "currency": "CNY"}, "provider": "paypal"}, "provider"),
    ({"amount": {"amount": 100, "currency": "CNY"}, "extra": 1}, "extra"),
    ({}, "amount"),
])
def test_bad_donations_write_nothing(api, make, payload, field):
    _user, headers = api.user_headers(Role.buyer)
    resp = api.post(URL + "/donations", payload, headers=headers)
    body = assert_error(resp, 400, "validation_failed")
    assert field in body["details"].get("fields", {})
    assert count(make) == 0


def test_donating_needs_a_token(api, make):
    assert_error(api.post(URL + "/donations", {"amount": {"amount": 1, "currency": "CNY"}}),
                 401, "unauthorized")
    assert count(make) == 0


def test_the_document_lists_the_routes(api):
    paths = api.get("/api/v1/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/pool"] and "post" in paths["/api/v1/pool/donations"]
