"""The filings API (both engines): POST /api/v1/units/{id}/filings by its admins (canteen, no
canteen, shared canteen; below the minimum 422 with details.minimum_bp; 404 for others),
GET /api/v1/filings/{id}, POST /api/v1/filings/{id}/review by the office over the unit (404 for
another county's, 409 when not pending), and bad input answered in Chinese JSON, writing
nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.units import filings
from marketplace.units.models import FilingEvent, UnitFiling, UnitKind
from tests.api.conftest import assert_error
from tests.fixtures.factories import make_user, region
from tests.fixtures.units import make_unit

YEAR = filings.china_day(now_utc()).year


@pytest.fixture
def world(api, make):
    def build(session):
        admin = make_user(session, Role.buyer, login="unitadmin@example.test")
        make_user(session, Role.office, login="office@example.test",
                  region_obj=region(session, "430525"))
        make_user(session, Role.office, login="xupu@example.test",
                  region_obj=region(session, "431224"))
        make_user(session, Role.buyer, login="member@example.test")
        unit = make_unit(session, name="洞口县财政局", admin=admin)
        host = make_unit(session, name="洞口县机关事务中心")
        enterprise = make_unit(session, kind=UnitKind.enterprise)
        return {"unit": unit.id, "host": host.id, "enterprise": enterprise.id}

    ids = make(build)
    ids["admin"] = api.auth("unitadmin@example.test")
    ids["office"] = api.auth("office@example.test")
    ids["xupu"] = api.auth("xupu@example.test")
    ids["member"] = api.auth("member@example.test")
    return ids


def money(fen):
    return {"amount": fen, "currency": "CNY"}


def count(app, model=UnitFiling) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_file_review_and_read(app, api, world):
    w = world
    url = f"/api/v1/units/{w['unit']}/filings"
    resp = api.post(url, {"year": YEAR, "canteen_spend": money(12_345_601),
                          "reserved_share_bp": 1000}, headers=w["admin"])
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert {"id", "unit_id", "year", "status", "no_canteen", "canteen_spend",
            "reserved_share_bp", "reserved", "counted"} <= set(body)
    assert body["status"] == "pending" and body["reserved"] == money(1_234_561)
    assert body["counted"] == money(0) and body["unit_id"] == w["unit"]

    review = f"/api/v1/filings/{body['id']}/review"
    assert_error(api.post(review, {"decision": "approve"}, headers=w["xupu"]), 404)
    assert_error(api.post(review, {"decision": "approve"}, headers=w["admin"]), 404)
    bad = assert_error(api.post(review, {"decision": "send_back", "reason": "x"},
                                headers=w["office"]), 400, "validation_failed")
    assert "退回原因" in bad["message"]
    sent = api.post(review, {"decision": "send_back", "reason": "请按决算数填报"},
                    headers=w["office"])
    assert sent.status_code == 200 and sent.get_json()["status"] == "sent_back"
    assert sent.get_json()["reason"] == "请按决算数填报"
    assert_error(api.post(review, {"decision": "approve"}, headers=w["office"]), 409,
                 "not_pending")

    again = api.post(url, {"year": YEAR, "no_canteen": True}, headers=w["admin"])
    assert again.status_code == 200 and again.get_json()["no_canteen"] is True
    assert again.get_json()["id"] == body["id"] and again.get_json()["status"] == "pending"
    done = api.post(review, {"decision": "approve"}, headers=w["office"])
    assert done.get_json()["status"] == "approved"
    assert_error(api.post(url, {"year": YEAR, "no_canteen": True}, headers=w["admin"]), 422,
                 "filing_fixed")

    got = api.get(f"/api/v1/filings/{body['id']}", headers=w["office"])
    assert got.status_code == 200 and got.get_json()["status"] == "approved"
    assert api.get(f"/api/v1/filings/{body['id']}", headers=w["admin"]).status_code == 200
    assert_error(api.get(f"/api/v1/filings/{body['id']}", headers=w["xupu"]), 404)
    assert_error(api.get(f"/api/v1/filings/{body['id']}", headers=w["member"]), 404)
    assert count(app, FilingEvent) == 4


def test_below_the_minimum_and_other_rules(app, api, world):
    w = world
    url = f"/api/v1/units/{w['unit']}/filings"
    low = assert_error(api.post(url, {"year": YEAR, "canteen_spend": money(100_000),
                                      "reserved_share_bp": 999}, headers=w["admin"]),
                       422, "below_minimum")
    assert low["details"]["minimum_bp"] == 1000 and "10%" in low["message"]
    assert_error(api.post(url, {"year": YEAR, "shared_with_unit_id": w["enterprise"]},
                          headers=w["admin"]), 422, "shared_unit_invalid")
    assert_error(api.post(url, {"year": YEAR + 2, "no_canteen": True}, headers=w["admin"]),
                 422, "filing_not_open")
    assert count(app) == 0
    shared = api.post(url, {"year": YEAR, "shared_with_unit_id": w["host"]},
                      headers=w["admin"])
    assert shared.status_code == 201
    assert shared.get_json()["shared_with_unit_id"] == w["host"]
    assert shared.get_json()["reserved"] == money(0) and shared.get_json()["progress_bp"] is None


def test_only_its_admins_file(app, api, world):
    w = world
    body = {"year": YEAR, "no_canteen": True}
    for who in ("office", "member", "xupu"):
        assert_error(api.post(f"/api/v1/units/{w['unit']}/filings", body, headers=w[who]), 404)
    assert_error(api.post(f"/api/v1/units/{w['host']}/filings", body, headers=w["admin"]), 404)
    assert_error(api.post("/api/v1/units/99999999999999999999/filings", body,
                          headers=w["admin"]), 404)
    assert_error(api.post(f"/api/v1/units/{w['unit']}/filings", body), 401)
    assert count(app) == 0


@pytest.mark.parametrize("body", [
    {},
    {"no_canteen": True},
    {"year": "2026", "no_canteen": True},
    {"year": 1999, "no_canteen": True},
    {"year": 2**40, "no_canteen": True},
    {"year": YEAR, "canteen_spend": 100000, "reserved_share_bp": 1000},
    {"year": YEAR, "canteen_spend": money(100000)},
    {"year": YEAR, "canteen_spend": {"amount": 1.5, "currency": "CNY"},
     "reserved_share_bp": 1000},
    {"year": YEAR, "canteen_spend": money(0), "reserved_share_bp": 1000},
    {"year": YEAR, "canteen_spend": money(-1), "reserved_share_bp": 1000},
    {"year": YEAR, "canteen_spend": money(100000), "reserved_share_bp": 10001},
    {"year": YEAR, "canteen_spend": money(100000), "reserved_share_bp": True},
    {"year": YEAR, "no_canteen": True, "canteen_spend": money(100000),
     "reserved_share_bp": 1000},
    {"year": YEAR, "no_canteen": "yes"},
    {"year": YEAR, "no_canteen": True, "colour": "red"},
])
def test_bad_input_is_refused_in_chinese_and_writes_nothing(app, api, world, body):
    error = assert_error(api.post(f"/api/v1/units/{world['unit']}/filings", body,
                                  headers=world["admin"]), 400)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in error["message"]), error
    assert count(app) == 0


def test_bad_review_input(app, api, world):
    resp = api.post(f"/api/v1/units/{world['unit']}/filings", {"year": YEAR, "no_canteen": True},
                    headers=world["admin"])
    review = f"/api/v1/filings/{resp.get_json()['id']}/review"
    for body in ({}, {"decision": "ok"}, {"decision": 1}, {"decision": "approve", "x": 1},
                 {"decision": "send_back"}, {"decision": "approve", "reason": "长" * 201}):
        assert_error(api.post(review, body, headers=world["office"]), 400)
    assert_error(api.post(review, "[]", headers=world["office"]), 400)
    assert_error(api.post("/api/v1/filings/999999/review", {"decision": "approve"},
                          headers=world["office"]), 404)
    assert count(app, FilingEvent) == 1
