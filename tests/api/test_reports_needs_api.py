"""GET /api/v1/reports/needs on both engines: the match rate (对接率) of an office's subtree (404
elsewhere), everywhere for admins, 403 for others; kind and category; bad input answers 400 in
Chinese; xlsx and CSV; the ranking's items carry the match rate."""
from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from marketplace.accounts.models import Role
from marketplace.help.needs.models import NeedCategory, NeedKind
from tests.api.conftest import assert_error
from tests.fixtures.factories import make_household, make_user, region
from tests.services.test_match_rate import add_need

NEEDS = "/api/v1/reports/needs"
HONGXI, GULOU, XUPU = "430525101201", "430525101202", "431224210201"


def build(session):
    poster = make_user(session, Role.liaison)
    a = make_household(session, village_code=HONGXI, n=801, liaison=poster)
    b = make_household(session, village_code=GULOU, n=802, liaison=poster)
    c = make_household(session, village_code=XUPU, n=803)
    nov = datetime(2026, 11, 3, 2, tzinfo=UTC)
    add_need(session, a, poster, posted=nov, reviewed=2, matched=10)
    add_need(session, a, poster, posted=nov, reviewed=4, matched=30,
             category=NeedCategory.medical)
    add_need(session, a, poster, posted=nov, reviewed=6, kind=NeedKind.wish)
    add_need(session, b, poster, posted=nov, reviewed=8)
    add_need(session, c, poster, posted=nov, reviewed=3, matched=5)
    county = make_user(session, Role.office, region_obj=region(session, "430525"),
                       login="county-n@example.test")
    admin = make_user(session, Role.platform_admin, login="admin-n@example.test")
    return {"county": county.email, "admin": admin.email, "liaison": poster.email}


@pytest.fixture
def data(api, make):
    built = make(build)
    return {k: api.auth(v) for k, v in built.items()}


def _ok(api, url, headers) -> dict:
    resp = api.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    return resp.get_json()


def test_the_county_and_its_villages(api, data):
    body = _ok(api, f"{NEEDS}?period=2026-11", data["county"])
    assert body["region"]["code"] == "430525" and body["period"] == "2026-11"
    assert {k: body[k] for k in ("approved", "matched", "match_rate_bp",
                                 "median_hours_to_review", "median_hours_to_match")} == {
        "approved": 4, "matched": 2, "match_rate_bp": 5000, "median_hours_to_review": 5.0,
        "median_hours_to_match": 20.0}
    assert [r["code"] for r in body["by_region"]] == ["430525101"]
    township = _ok(api, f"{NEEDS}?region=430525101&period=2026-11", data["county"])
    rows = {r["code"]: r for r in township["by_region"]}
    assert rows[HONGXI]["name"] == "洪溪村" and rows[HONGXI]["match_rate_bp"] == 6667
    assert rows[GULOU]["match_rate_bp"] == 0 and rows[GULOU]["median_hours_to_match"] is None
    categories = {c["category"]: c for c in body["by_category"]}
    assert categories["medical"]["label"] == "医疗" and categories["medical"]["matched"] == 1
    assert categories["housing"]["match_rate_bp"] is None


def test_kind_category_and_admins(api, data):
    wishes = _ok(api, f"{NEEDS}?period=2026-11&kind=wish", data["county"])
    assert (wishes["approved"], wishes["matched"], wishes["kind"]) == (1, 0, "wish")
    medical = _ok(api, f"{NEEDS}?period=2026-11&category=medical", data["county"])
    assert medical["approved"] == 1 and [c["category"] for c in medical["by_category"]] == [
        "medical"]
    everywhere = _ok(api, f"{NEEDS}?period=2026-11", data["admin"])
    assert everywhere["region"] is None and (everywhere["approved"], everywhere["matched"]) \
        == (5, 3)
    october = _ok(api, f"{NEEDS}?period=2026-10", data["county"])
    assert october["approved"] == 0 and october["match_rate_bp"] is None


def test_who_may_not_and_bad_input(api, data):
    assert_error(api.get(f"{NEEDS}?period=2026-11"), 401)
    assert_error(api.get(f"{NEEDS}?period=2026-11", headers=data["liaison"]), 403)
    assert_error(api.get(f"{NEEDS}?region=431224&period=2026-11", headers=data["county"]), 404)
    for query, field in (("period=2026-13", "period"), ("kind=gift", "kind"),
                         ("category=food", "category"), ("format=pdf", "format")):
        err = assert_error(api.get(f"{NEEDS}?{query}", headers=data["county"]), 400)
        assert field in err["details"]["fields"], err
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"])


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_downloads(api, data, fmt):
    resp = api.get(f"{NEEDS}?region=430525101&period=2026-11&format={fmt}",
                   headers=data["county"])
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    if fmt == "csv":
        line = next(li for li in resp.get_data().decode("utf-8").splitlines() if HONGXI in li)
        assert line.split(",")[3:6] == ["3", "2", "66.67%"]
    else:
        rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(resp.get_data()))
                .active.iter_rows()]
        assert next(r for r in rows if r[1] == HONGXI)[3:5] == [3, 2]


def test_the_ranking_carries_the_match_rate(api, data):
    body = _ok(api, "/api/v1/reports/ranking?region=430525101&period=2026-11", data["county"])
    items = {i["code"]: i for i in body["items"]}
    assert items[HONGXI]["indicators"]["match_rate_bp"] == 6667
    assert body["weights"]["match"] == 20 and sum(body["weights"].values()) == 100
