"""The needs API: the public wall (masked), posting (201 pending), review by the office over the
household (404 for another region's office), claims, delivery and confirmation; bad input is a
Chinese 400 and writes nothing."""
from __future__ import annotations

import pytest

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.help.needs.models import Need, NeedEvent
from tests.api.conftest import assert_error
from tests.fixtures.factories import make_household, make_user, region

NEED = {"category": "education", "title": "孩子上学需要书包", "kind": "need",
        "items": [{"name": "书包", "quantity": 1, "unit": "个"}], "description": "上初一"}


@pytest.fixture
def w(api, make):
    def build(session):
        liaison = make_user(session, Role.liaison)
        office = make_user(session, Role.office, region_obj=region(session, "430525"))
        other = make_user(session, Role.office, region_obj=region(session, "431224"))
        donor = make_user(session, Role.buyer)
        household = make_household(session, liaison=liaison, name="张三明")
        return type("W", (), dict(liaison=liaison, office=office, other=other, donor=donor,
                                  household=household))
    world = make(build)
    world.h = {k: api.auth(getattr(world, k).email)
               for k in ("liaison", "office", "other", "donor")}
    return world


def _count(app, model) -> int:
    with app.app_context():
        return db.session.query(model).count()


def test_post_review_claim_deliver_confirm(api, w, app):
    resp = api.post("/api/v1/needs", {**NEED, "household_code": w.household.code},
                    headers=w.h["liaison"])
    assert resp.status_code == 201, resp.get_json()
    need = resp.get_json()
    assert need["status"] == "pending" and need["household"]["display_name"] == "张*明"
    assert api.get("/api/v1/needs").get_json()["total"] == 0
    assert_error(api.post(f"/api/v1/needs/{need['id']}/review", {"decision": "approve"},
                          headers=w.h["other"]), 404)
    assert_error(api.post(f"/api/v1/needs/{need['id']}/review", {"decision": "send_back"},
                          headers=w.h["office"]), 400)
    resp = api.post(f"/api/v1/needs/{need['id']}/review", {"decision": "approve"},
                    headers=w.h["office"])
    assert resp.status_code == 200 and resp.get_json()["status"] == "open"
    wall = api.get("/api/v1/needs?q=书包&region=430525").get_json()
    assert wall["total"] == 1 and "张三明" not in str(wall)
    assert api.get("/api/v1/needs?q=轮椅").get_json()["total"] == 0
    assert_error(api.post(f"/api/v1/needs/{need['id']}/claims",
                          {"amount": {"amount": 100, "currency": "CNY"}},
                          headers=w.h["donor"]), 400)
    resp = api.post(f"/api/v1/needs/{need['id']}/claims", {}, headers=w.h["donor"])
    assert resp.status_code == 201
    claim = resp.get_json()
    assert claim["status"] == "held" and claim["need_status"] == "claimed"
    assert_error(api.post(f"/api/v1/claims/{claim['id']}/delivered", {"kind": "goods"},
                          headers=w.h["liaison"]), 404)
    resp = api.post(f"/api/v1/claims/{claim['id']}/delivered",
                    {"kind": "goods", "note": "快递已寄出"}, headers=w.h["donor"])
    assert resp.status_code == 200 and resp.get_json()["status"] == "delivered"
    assert_error(api.post(f"/api/v1/claims/{claim['id']}/confirm", {"note": "x"},
                          headers=w.h["donor"]), 404)
    resp = api.post(f"/api/v1/claims/{claim['id']}/confirm", {"note": "已收到"},
                    headers=w.h["liaison"])
    assert resp.status_code == 200 and resp.get_json()["need_status"] == "fulfilled"


def test_part_of_an_amount_and_money(api, w):
    resp = api.post("/api/v1/needs", {"household_code": w.household.code, "category": "medical",
                                      "title": "老人看病需要医药费",
                                      "amount": {"amount": 50_000, "currency": "CNY"}},
                    headers=w.h["office"])
    assert resp.status_code == 201 and resp.get_json()["what"] == "amount"
    need_id = resp.get_json()["id"]
    api.post(f"/api/v1/needs/{need_id}/review", {"decision": "approve"}, headers=w.h["office"])
    resp = api.post(f"/api/v1/needs/{need_id}/claims",
                    {"amount": {"amount": 20_000, "currency": "CNY"}}, headers=w.h["donor"])
    assert resp.status_code == 201 and resp.get_json()["need_status"] == "open"
    wall = api.get("/api/v1/needs").get_json()["items"][0]
    assert wall["remaining"] == {"amount": 30_000, "currency": "CNY"}
    claim_id = resp.get_json()["id"]
    resp = api.post(f"/api/v1/claims/{claim_id}/delivered", {"kind": "money"},
                    headers=w.h["donor"])
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["donation_id"] is not None


@pytest.mark.parametrize("body, field", [
    ({**NEED, "title": "短"}, "title"),
    ({**NEED, "category": "toys"}, "category"),
    ({**NEED, "items": [{"name": "书包", "quantity": -1}]}, "items"),
    ({**NEED, "amount": 100}, "amount"),
    ({**NEED, "color": "red"}, "color"),
    ({**NEED, "kind": "wish", "amount": {"amount": 60_000, "currency": "CNY"}}, "amount"),
    ({**NEED, "expires_on": "明天"}, "expires_on"),
])
def test_bad_input_is_a_chinese_400_and_writes_nothing(api, w, app, body, field):
    before = _count(app, Need), _count(app, NeedEvent)
    err = assert_error(api.post("/api/v1/needs", {**body, "household_code": w.household.code},
                                headers=w.h["liaison"]), 400)
    assert field in err["details"]["fields"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"])
    assert (_count(app, Need), _count(app, NeedEvent)) == before


def test_who_may_post_and_limits(api, w, app):
    assert_error(api.post("/api/v1/needs", {**NEED, "household_code": w.household.code}), 401)
    assert_error(api.post("/api/v1/needs", {**NEED, "household_code": w.household.code},
                          headers=w.h["donor"]), 404)
    assert_error(api.post("/api/v1/needs", {**NEED, "household_code": "HT99999999"},
                          headers=w.h["liaison"]), 404)
    for _ in range(3):
        assert api.post("/api/v1/needs", {**NEED, "household_code": w.household.code},
                        headers=w.h["liaison"]).status_code == 201
    err = assert_error(api.post("/api/v1/needs", {**NEED, "household_code": w.household.code},
                                headers=w.h["liaison"]), 422, "household_cap")
    assert "3" in err["message"]


def test_wall_arguments(api):
    assert_error(api.get("/api/v1/needs?category=toys"), 400)
    assert_error(api.get("/api/v1/needs?page=0"), 400)
    assert_error(api.get("/api/v1/needs?region=999999"), 404)
    assert api.get("/api/v1/needs?kind=wish&status=open").status_code == 200
