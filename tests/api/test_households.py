"""GET /api/v1/households/{code}/statement (both engines): entries and totals for a period, the
balance before it, reversals negative; its liaison, the offices over it and admins only (404 for
anyone else and unknown codes); bad dates answered with a JSON 400."""
from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.accounts.models import Role
from marketplace.core.time import today_china
from tests.api.conftest import assert_error
from tests.fixtures.factories import make_household, make_product, make_seller, make_user, region

URL = "/api/v1/orders"
ADDRESS = {"recipient": "王小红", "mobile": "13912345678", "region_code": "431224",
           "detail": "卢峰镇 1 号"}


@pytest.fixture
def shop(api, make):
    make.regions()
    liaison = make.user(Role.liaison, login="liaison@example.test")

    def build(session):
        household = make_household(session, n=990, name="王建国",
                                    liaison=session.merge(liaison))
        seller = make_seller(session, members=[(household, 1)])
        seller.household_share_bp = 5000
        product = make_product(session, seller, name="合作社红茶", price_fen=2000, stock=20)
        return household.code, product.id
    code, product_id = make(build)
    return {"code": code, "product_id": product_id, "liaison": api.auth("liaison@example.test")}


def buy_and_pay(api, product_id, quantity, key, headers):
    order = api.post(URL, {"lines": [{"product_id": product_id, "quantity": quantity}],
                           "address": ADDRESS, "idempotency_key": key},
                     headers=headers).get_json()["orders"][0]
    api.post(f"{URL}/{order['id']}/payments", {"provider": "simulated"}, headers=headers)
    return order


def test_statement_lists_entries_and_totals_for_its_liaison(api, make, shop, buyer_headers):
    first = buy_and_pay(api, shop["product_id"], 2, "hh-api-1", buyer_headers)
    buy_and_pay(api, shop["product_id"], 1, "hh-api-2", buyer_headers)
    _admin, admin = api.user_headers(Role.platform_admin)
    api.post(f"{URL}/{first['id']}/refunds", {"amount": {"amount": 1000, "currency": "CNY"}},
             headers=admin)
    resp = api.get(f"/api/v1/households/{shop['code']}/statement", headers=shop["liaison"])
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["household"]["code"] == shop["code"]
    assert body["household"]["display_name"] == "王*国" and "洪溪村" in body["household"]["village"]
    amounts = [(e["kind"], e["amount"]["amount"]) for e in body["entries"]]
    assert amounts == [("sale", 2000), ("sale", 1000), ("reversal", -500)]
    assert [e["running_total"]["amount"] for e in body["entries"]] == [2000, 3000, 2500]
    assert body["totals"] == {"sales": {"amount": 3000, "currency": "CNY"},
                              "reversals": {"amount": -500, "currency": "CNY"},
                              "net": {"amount": 2500, "currency": "CNY"}, "count": 3}
    assert body["opening"]["amount"] == 0 and body["closing"]["amount"] == 2500
    assert body["entries"][0]["product"] == "合作社红茶" and body["entries"][0]["order_number"]

    today = today_china()
    later = api.get(f"/api/v1/households/{shop['code']}/statement?from="
                    f"{(today + timedelta(days=1)).isoformat()}", headers=shop["liaison"]).get_json()
    assert later["entries"] == [] and later["opening"]["amount"] == 2500
    assert later["closing"]["amount"] == 2500
    earlier = api.get(f"/api/v1/households/{shop['code']}/statement?to="
                      f"{(today - timedelta(days=1)).isoformat()}",
                      headers=shop["liaison"]).get_json()
    assert earlier["entries"] == [] and earlier["closing"]["amount"] == 0
    same_day = api.get(f"/api/v1/households/{shop['code']}/statement?from={today}&to={today}",
                       headers=shop["liaison"]).get_json()
    assert same_day["totals"]["count"] == 3


def test_statement_is_for_the_liaison_offices_over_it_and_admins_only(api, make, shop):
    url = f"/api/v1/households/{shop['code']}/statement"
    county = make(lambda s: make_user(s, Role.office, region_obj=region(s, "430525")))
    elsewhere = make(lambda s: make_user(s, Role.office, region_obj=region(s, "431224")))
    assert api.get(url, headers=api.auth(county.email)).status_code == 200
    assert api.get(url, headers=api.user_headers(Role.platform_admin)[1]).status_code == 200
    assert_error(api.get(url, headers=api.auth(elsewhere.email)), 404, "not_found")
    assert_error(api.get(url, headers=api.user_headers(Role.buyer)[1]), 404, "not_found")
    assert_error(api.get(url, headers=api.user_headers(Role.liaison)[1]), 404, "not_found")
    assert_error(api.get("/api/v1/households/NOPE/statement", headers=shop["liaison"]), 404)
    assert_error(api.get(url), 401)


def test_bad_dates_are_a_json_400(api, shop):
    url = f"/api/v1/households/{shop['code']}/statement"
    body = assert_error(api.get(url + "?from=2026-13-01", headers=shop["liaison"]), 400,
                        "validation_failed")
    assert "from" in body["details"]["fields"]
    body = assert_error(api.get(url + "?from=2026-11-20&to=2026-11-01",
                                headers=shop["liaison"]), 400, "validation_failed")
    assert "开始日期不能晚于结束日期" in body["message"]
