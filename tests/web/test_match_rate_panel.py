"""The match rate (对接率) on the office dashboard: the panel's figures (a table, no JavaScript
needed), by sub-region and category, its downloads, and the ranking's fifth indicator and
weight. Both engines."""
from __future__ import annotations

import html as htmllib
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from marketplace.accounts.models import Role
from marketplace.extensions import db
from marketplace.help.needs.models import NeedCategory, NeedKind
from tests.fixtures.factories import make_household, make_user, region
from tests.services.test_match_rate import add_need

COUNTY, TOWNSHIP, HONGXI, GULOU = "430525", "430525101", "430525101201", "430525101202"
URL = "/office/reports"


@pytest.fixture
def needs(app):
    with app.app_context():
        session = db.session
        poster = make_user(session, Role.liaison)
        make_user(session, Role.office, login="office-m@example.test",
                  region_obj=region(session, COUNTY))
        a = make_household(session, village_code=HONGXI, n=701, liaison=poster)
        b = make_household(session, village_code=GULOU, n=702, liaison=poster)
        nov = datetime(2026, 11, 3, 2, tzinfo=UTC)
        add_need(session, a, poster, posted=nov, reviewed=2, matched=10)
        add_need(session, a, poster, posted=nov, reviewed=4, matched=30,
                 category=NeedCategory.medical)
        add_need(session, a, poster, posted=nov, reviewed=6, kind=NeedKind.wish)
        add_need(session, b, poster, posted=nov, reviewed=8)
        session.commit()


def text(resp) -> str:
    return htmllib.unescape(resp.get_data(as_text=True))


def cells(page: str, key: str) -> list[str]:
    found = re.search(rf'<tr data-match="{re.escape(key)}">(.*?)</tr>', page, re.S)
    assert found, f"no row {key}"
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", found.group(1), re.S)]


def test_the_panel_by_village_and_category(client, needs):
    client.login("office-m@example.test")
    page = text(client.get(URL, query_string={"region": TOWNSHIP, "period": "2026-11"}))
    assert 'id="needs-match"' in page and "需求对接率" in page
    assert cells(page, HONGXI) == ["洪溪村", "3", "2", "66.67%", "4.0", "20.0"]
    assert cells(page, GULOU) == ["古楼村", "1", "0", "0%", "8.0", "—"]
    assert cells(page, "total") == ["合计", "4", "2", "50%", "5.0", "20.0"]
    assert cells(page, "medical") == ["医疗", "1", "1", "100%", "4.0", "30.0"]
    assert cells(page, "housing")[1:4] == ["0", "0", "—"]
    county = text(client.get(URL, query_string={"period": "2026-11"}))
    assert cells(county, TOWNSHIP)[:4] == ["月溪镇", "4", "2", "50%"]
    empty = text(client.get(URL, query_string={"period": "2026-10"}))
    assert cells(empty, "total")[1:4] == ["0", "0", "—"]


def test_the_panel_in_english(client, needs):
    client.login("office-m@example.test")
    client.get("/lang/en")
    page = text(client.get(URL, query_string={"region": TOWNSHIP, "period": "2026-11"}))
    assert "Match rate" in page


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_the_downloads(client, needs, fmt):
    client.login("office-m@example.test")
    raw = client.get(URL, query_string={"region": TOWNSHIP, "period": "2026-11"}
                     ).get_data(as_text=True)
    assert f"/office/reports/needs.{fmt}?region={TOWNSHIP}&amp;period=2026-11" in raw
    resp = client.get(f"{URL}/needs.{fmt}", query_string={"region": TOWNSHIP,
                                                          "period": "2026-11"})
    assert resp.status_code == 200 and "attachment" in resp.headers["Content-Disposition"]
    if fmt == "csv":
        lines = resp.get_data().decode("utf-8").splitlines()
        hongxi = next(li for li in lines if HONGXI in li).split(",")
        assert hongxi[3:8] == ["3", "2", "66.67%", "4.0", "20.0"]
    else:
        rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(resp.get_data()))
                .active.iter_rows()]
        assert "需求对接率" in str(rows[0][0])
        hongxi = next(r for r in rows if r[1] == HONGXI)
        assert hongxi[3:5] == [3, 2] and float(hongxi[5]) == pytest.approx(0.6667)
    other = client.get(f"{URL}/needs.{fmt}", query_string={"region": "431224",
                                                           "period": "2026-11"})
    assert other.status_code == 404


def test_the_ranking_has_the_match_rate_and_its_weight(client, needs):
    client.login("office-m@example.test")
    args = f"?region={TOWNSHIP}&period=2026-11"
    page = text(client.get(URL + "/ranking" + args))
    assert 'name="match"' in page and "需求对接率" in page
    assert re.search(r'name="match"[^>]*value="20"|value="20"[^>]*name="match"', page)
    found = re.search(rf'<tr data-key="{HONGXI}">(.*?)</tr>', page, re.S).group(1)
    assert 'data-indicator="match">66.67%' in found
    good = client.post_form(URL + "/ranking" + args, {
        "income": "0", "coverage": "0", "growth": "0", "units": "0", "match": "100"})
    assert good.status_code == 302
    page = text(client.get(URL + "/ranking" + args))
    first = re.search(r'<tbody>\s*<tr data-key="(\d+)">', page).group(1)
    assert first == HONGXI
    bad = client.post_form(URL + "/ranking" + args, {
        "income": "40", "coverage": "30", "growth": "15", "units": "15", "match": "20"})
    assert bad.status_code == 400 and "各项权重之和应为 100" in text(bad)
