"""GET /api/v1/reports/summary, /regions, /ranking, /targeting and GET /api/v1/households on
both engines: the shapes DESIGN.md gives, offices for their subtree only (404 elsewhere, as for
unknown codes), platform admins anywhere (no region: everywhere), others 403; format=xlsx opens
with openpyxl and holds the JSON's figures; bad periods, dates and formats answer 400 with
Chinese messages."""
from __future__ import annotations

import io
from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from openpyxl import load_workbook

from marketplace.accounts.models import Role
from marketplace.core.time import CHINA
from marketplace.households.models import HouseholdStatus
from marketplace.orders import offline
from marketplace.orders import services as orders
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import offline as recording
from marketplace.payments.capture import record_payment
from marketplace.reports import assessment, periods
from tests.api.conftest import assert_error
from tests.fixtures.factories import (
    DELIVERY,
    make_household,
    make_product,
    make_seller,
    make_user,
    region,
)

SUMMARY = "/api/v1/reports/summary"
REGIONS = "/api/v1/reports/regions"
RANKING = "/api/v1/reports/ranking"
TARGETING = "/api/v1/reports/targeting"
HOUSEHOLDS = "/api/v1/households"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _paid(session, buyer, product, quantity: int, at: datetime, key: str):
    order, = orders.checkout(session, buyer, [LineInput(product.id, quantity)],
                             AddressInput(**DELIVERY), idempotency_key=key)
    record_payment(session, order, provider="simulated", reference=f"sim-{key}",
                   amount_fen=order.total_fen, currency="CNY", now=at)


def build_report_data(session):
    """洞口县: 洪溪村 three households (one monitored), 古楼村 one; 溆浦县 one. A cooperative
    placed at 洞口县 itself gives half of each sale to 洪溪村's first two: October one sale of
    20 yuan, November two online (40 yuan) and one offline at a fair (15 yuan)."""
    liaison = make_user(session, Role.liaison, name="李联络")
    hh = [make_household(session, n=7101, name="王建国", liaison=liaison),
          make_household(session, n=7102, name="刘小梅"),
          make_household(session, n=7103, name="陈大山", status=HouseholdStatus.monitored,
                         liaison=liaison),
          make_household(session, village_code="430525101202", n=7104, name="赵四海"),
          make_household(session, village_code="431224210201", n=7105, name="孙五湖")]
    coop = make_seller(session, members=[(hh[0], 1), (hh[1], 1)])
    coop.household_share_bp = 5000
    tea = make_product(session, coop, name="合作社红茶", price_fen=2000, stock=100)
    buyer = make_user(session, Role.buyer)
    _paid(session, buyer, tea, 1, datetime(2026, 10, 15, 10, tzinfo=CHINA), "report-oct")
    _paid(session, buyer, tea, 2, datetime(2026, 11, 10, 10, tzinfo=CHINA), "report-nov")
    staff = make_user(session, Role.buyer, Role.seller_staff, seller=coop)
    recording.record(session, staff, coop, offline.OfflineSaleInput(
        sold_on="2026-11-12", place="洞口县消费帮扶集市",
        lines=[offline.OfflineLine(tea.id, 1, 1500)], payment_method="cash",
        receipt_no="FAIR-1"), now=datetime(2026, 11, 12, 16, tzinfo=CHINA).astimezone(UTC))
    county = make_user(session, Role.office, region_obj=region(session, "430525"),
                       login="county@example.test")
    other = make_user(session, Role.office, region_obj=region(session, "431224"),
                      login="other@example.test")
    admin = make_user(session, Role.platform_admin, login="admin@example.test")
    return {"households": [h.code for h in hh], "liaison": liaison.email,
            "county": county.email, "other": other.email, "admin": admin.email,
            "buyer": buyer.email}


@pytest.fixture
def data(api, make):
    make.regions()
    built = make(build_report_data)
    return {**built, **{k: api.auth(built[k]) for k in ("liaison", "county", "other", "admin",
                                                         "buyer")}}


def _ok(api, url, headers) -> dict:
    resp = api.get(url, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/json"
    return resp.get_json()


def _yuan(money: dict) -> float:
    assert money["currency"] == "CNY"
    return money["amount"] / 100


def test_summary_of_an_office_defaults_to_its_county(api, data):
    body = _ok(api, f"{SUMMARY}?period=2026-11", data["county"])
    assert body["region"]["code"] == "430525" and body["region"]["name"] == "洞口县"
    assert (body["from"], body["to"], body["period"]) == ("2026-11-01", "2026-11-30", "2026-11")
    assert body["as_of"]
    assert body["sales"] == {"total": {"amount": 5500, "currency": "CNY"},
                             "online": {"amount": 4000, "currency": "CNY"},
                             "offline": {"amount": 1500, "currency": "CNY"}}
    assert body["attributed"] == {"amount": 2750, "currency": "CNY"}
    assert body["households_reached"] == 2 and body["households_registered"] == 4
    assert body["coverage_bp"] == 5000
    assert body["monitored"] == {"registered": 1, "reached": 0, "coverage_bp": 0}
    assert body["average"]["amount"] == 1375
    channels = {c["channel"]: (c["sales"]["amount"], c["attributed"]["amount"], c["label"])
                for c in body["by_channel"]}
    assert channels == {"individual": (4000, 2000, "个人购买"), "offline": (1500, 750, "线下销售")}
    assert [(k["seller_kind"], k["sales"]["amount"]) for k in body["by_seller_kind"]] == [
        ("cooperative", 5500)]
    assert [(c["category"], c["attributed"]["amount"]) for c in body["by_category"]] == [
        ("tea", 2750)]
    previous = body["previous"]
    assert (previous["from"], previous["to"]) == ("2026-10-01", "2026-10-31")
    assert previous["sales"]["total"]["amount"] == 2000
    assert previous["attributed"]["amount"] == 1000
    assert previous["change_bp"] == {"sales": 17500, "attributed": 17500,
                                     "households_reached": 0}
    assert body["year_before"]["from"] == "2025-11-01"
    assert body["year_before"]["change_bp"]["sales"] is None  # nothing a year before
    assert [(p["month"], p["sales"]["amount"]) for p in body["trend"][-2:]] == [
        ("2026-10", 2000), ("2026-11", 5500)]
    assert len(body["trend"]) == 12

    days = _ok(api, f"{SUMMARY}?from=2026-10-01&to=2026-11-30", data["county"])
    assert days["attributed"]["amount"] == 3750 and days["sales"]["total"]["amount"] == 7500


def test_regions_one_level_down_and_a_villages_households(api, data):
    body = _ok(api, f"{REGIONS}?region=430525&period=2026-11", data["county"])
    items = {(i["kind"], i["code"]): i for i in body["items"]}
    township = items[("region", "430525101")]
    assert township["name"] == "月溪镇" and township["attributed"]["amount"] == 2750
    assert township["households_reached"] == 2 and township["households_registered"] == 4
    own = items[("own_sellers", None)]  # the cooperative is placed at the county itself
    assert own["sales"]["total"]["amount"] == 5500 and own["attributed"]["amount"] == 0
    assert body["total"]["attributed"]["amount"] == 2750

    village = _ok(api, f"{REGIONS}?region=430525101201&period=2026-11", data["county"])
    rows = {i["code"]: i for i in village["items"]}
    assert set(rows) == set(data["households"][:3])
    first = rows[data["households"][0]]
    assert first["kind"] == "household" and first["name"] == "王*国"
    assert first["attributed"]["amount"] == 1375 and first["status"] == "poor"


def test_an_office_sees_its_subtree_only_and_admins_everywhere(api, data):
    for code in ("431224", "43", "431224210201", "999999", "abc", "4305251012019999"):
        err = assert_error(api.get(f"{SUMMARY}?region={code}", headers=data["county"]), 404)
        assert "管辖范围" in err["message"]
        assert_error(api.get(f"{TARGETING}?region={code}", headers=data["county"]), 404)
    assert _ok(api, f"{SUMMARY}?region=430525101&period=2026-11",
               data["county"])["attributed"]["amount"] == 2750
    other = _ok(api, f"{SUMMARY}?period=2026-11", data["other"])
    assert other["region"]["code"] == "431224" and other["attributed"]["amount"] == 0
    assert other["sales"]["total"]["amount"] == 0  # the seller is in 洞口县

    everywhere = _ok(api, f"{SUMMARY}?period=2026-11", data["admin"])
    assert everywhere["region"] is None
    assert everywhere["households_registered"] == 5
    assert everywhere["attributed"]["amount"] == 2750
    provinces = _ok(api, f"{REGIONS}?period=2026-11", data["admin"])
    assert [i["code"] for i in provinces["items"]] == ["43"]
    assert _ok(api, f"{SUMMARY}?region=431224", data["admin"])["region"]["code"] == "431224"

    for url in (SUMMARY, REGIONS, RANKING, TARGETING):
        assert_error(api.get(url, headers=data["buyer"]), 403)
        assert_error(api.get(url), 401)
        assert_error(api.get(url, headers=data["liaison"]), 403)


def test_xlsx_holds_the_figures_of_the_json(api, data):
    body = _ok(api, f"{SUMMARY}?period=2026-11", data["county"])
    resp = api.get(f"{SUMMARY}?period=2026-11&format=xlsx", headers=data["county"])
    assert resp.status_code == 200 and resp.mimetype == XLSX
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="report-430525-2026-11-summary.xlsx";')
    assert "filename*=UTF-8''" in disposition
    assert unquote(disposition.split("''", 1)[1]) == "洞口县-2026-11-汇总.xlsx"
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["汇总", "分渠道", "分品类", "分经营主体", "月度趋势"]
    sheet = book["汇总"]
    assert sheet["A1"].value == "湖南省邵阳市洞口县 2026年11月 汇总"
    assert sheet.freeze_panes == "A3"
    rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=3, values_only=True)}
    assert rows["销售额（元）"][0] == pytest.approx(_yuan(body["sales"]["total"]))
    assert rows["线下销售额（元）"][0] == pytest.approx(_yuan(body["sales"]["offline"]))
    assert rows["归属收入（元）"][0] == pytest.approx(_yuan(body["attributed"]))
    assert rows["归属收入（元）"][1] == pytest.approx(_yuan(body["previous"]["attributed"]))
    assert rows["归属收入（元）"][2] == pytest.approx(1.75)  # +175%
    assert rows["带动增收户数"][0] == body["households_reached"]
    assert rows["覆盖率"][0] == pytest.approx(body["coverage_bp"] / 10000)
    assert sheet["B3"].number_format == "#,##0.00"
    channels = {r[0]: r[1] for r in book["分渠道"].iter_rows(min_row=3, values_only=True)}
    assert channels["线下销售"] == pytest.approx(15.0)

    regions_json = _ok(api, f"{REGIONS}?region=430525&period=2026-11", data["county"])
    regions = load_workbook(io.BytesIO(api.get(
        f"{REGIONS}?region=430525&period=2026-11&format=xlsx", headers=data["county"]).data))
    table = {r[0]: r for r in regions["分地区"].iter_rows(min_row=3, values_only=True)}
    township = next(i for i in regions_json["items"] if i["code"] == "430525101")
    assert table["430525101"][1] == "月溪镇"
    assert table["430525101"][5] == pytest.approx(_yuan(township["attributed"]))
    assert table["430525"][1] == "合计" and table["430525"][2] == pytest.approx(55.0)


def test_csv_has_a_bom_and_yuan_as_text(api, data):
    resp = api.get(f"{REGIONS}?region=430525&period=2026-11&format=csv", headers=data["county"])
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.data.decode("utf-8")
    assert text.startswith("\ufeff地区代码,地区,销售额（元）")
    assert "430525101,月溪镇,0.00,0.00,0.00,27.50,2,4,50.00%" in text
    assert "430525,合计,55.00,40.00,15.00,27.50,2,4,50.00%,0.00%,13.75" in text


def test_targeting_lists_households_without_income_monitored_first(api, data):
    body = _ok(api, f"{TARGETING}?period=2026-11", data["county"])
    assert body["total"] == 2 and body["monitored"] == 1
    assert [i["code"] for i in body["items"]] == [data["households"][2], data["households"][3]]
    first = body["items"][0]
    assert first["display_name"] == "陈*山" and first["status"] == "monitored"
    assert first["village"] == "洪溪村" and first["liaison"] == "李联络"
    assert body["items"][1]["liaison"] is None
    october = _ok(api, f"{TARGETING}?period=2026-10", data["county"])
    assert october["total"] == 2
    resp = api.get(f"{TARGETING}?period=2026-11&format=xlsx", headers=data["county"])
    sheet = load_workbook(io.BytesIO(resp.data)).active
    assert [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)] == [
        i["code"] for i in body["items"]]
    assert_error(api.get(f"{TARGETING}?page=0", headers=data["county"]), 400)


def test_ranking_of_villages_and_a_published_version(api, app, data):
    url = f"{RANKING}?region=430525101&period=2026-11"
    body = _ok(api, url, data["county"])
    assert [(i["code"], i["rank"]) for i in body["items"]] == [("430525101201", 1),
                                                               ("430525101202", 2)]
    top = body["items"][0]
    assert top["name"] == "洪溪村" and 0 <= top["score"] <= 100
    assert top["indicators"]["coverage_bp"] == round(2 * 10000 / 3)
    assert top["previous_rank"] == 1 and body["published"] == [] and body["version"] is None
    assert sum(body["weights"].values()) == 100
    assert_error(api.get(f"{url}&version=1", headers=data["county"]), 404)

    from marketplace.extensions import db
    from marketplace.regions.services import get_by_code
    with app.app_context():
        from marketplace.accounts.services import find_by_login
        actor = find_by_login(db.session, "county@example.test")
        assessment.publish(db.session, actor, get_by_code(db.session, "430525101"),
                           periods.month(2026, 11), now=datetime(2026, 12, 1, tzinfo=UTC))
        db.session.commit()
    kept = _ok(api, f"{url}&version=1", data["county"])
    assert kept["version"] == 1 and [v["version"] for v in kept["published"]] == [1]
    assert [(i["code"], i["rank"], i["score"]) for i in kept["items"]] == [
        (i["code"], i["rank"], i["score"]) for i in body["items"]]
    sheet = load_workbook(io.BytesIO(api.get(f"{url}&version=1&format=xlsx",
                                             headers=data["county"]).data)).active
    first = next(sheet.iter_rows(min_row=3, values_only=True))
    assert first[0] == 1 and first[3] == "430525101201"
    assert first[5] == pytest.approx(top["score"])


def test_reports_read_the_replica(replica_app):
    """With MARKETPLACE_REPORTS_DATABASE_URL the reports read the replica (core.db
    reports_session), committed figures included, the xlsx too; as_of says how fresh."""
    from tests.api.conftest import Api
    from tests.fixtures.databases import sync_replica
    from tests.fixtures.factories import Maker, make_regions
    make = Maker(replica_app)
    make(make_regions)
    built = make(build_report_data)
    sync_replica(replica_app)
    api = Api(replica_app, make)
    county = api.auth(built["county"])
    before = datetime.now(UTC)
    body = _ok(api, f"{SUMMARY}?period=2026-11", county)
    assert body["attributed"]["amount"] == 2750 and body["sales"]["offline"]["amount"] == 1500
    as_of = datetime.fromisoformat(body["as_of"])
    assert as_of.utcoffset() is not None and abs((as_of - before).total_seconds()) < 60
    sheet = load_workbook(io.BytesIO(api.get(f"{REGIONS}?period=2026-11&format=xlsx",
                                             headers=county).data))["分地区"]
    assert _ok(api, f"{TARGETING}?period=2026-11", county)["total"] == 2
    assert [r[0] for r in sheet.iter_rows(min_row=3, values_only=True)][-1] == "430525"


@pytest.mark.parametrize("query, field", [
    ("period=2026-13", "period"), ("period=next", "period"), ("from=2026-11-31", "from"),
    ("from=2026-11-10&to=2026-11-01", "to"), ("to=2026/11/30", "to"),
    ("from=1999-01-01&to=1999-01-31", "from"), ("from=9999-12-01&to=9999-12-31", "from"),
    ("from=2020-01-01&to=2026-01-01", "to"),
    ("format=pdf", "format")])
def test_bad_input_answers_400_naming_the_argument(api, data, query, field):
    for url in (SUMMARY, REGIONS, RANKING, TARGETING):
        err = assert_error(api.get(f"{url}?{query}", headers=data["admin"]), 400,
                           "validation_failed")
        assert field in err["details"]["fields"], err
        assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"])


def test_households_list_for_liaisons_offices_and_admins(api, data):
    mine = _ok(api, HOUSEHOLDS, data["liaison"])
    assert mine["total"] == 2
    assert {i["code"] for i in mine["items"]} == {data["households"][0], data["households"][2]}
    assert set(mine["items"][0]) >= {"code", "display_name", "village", "status"}
    assert "*" in mine["items"][0]["display_name"]
    county = _ok(api, HOUSEHOLDS, data["county"])
    assert county["total"] == 4
    assert _ok(api, f"{HOUSEHOLDS}?region=430525101202", data["county"])["total"] == 1
    assert_error(api.get(f"{HOUSEHOLDS}?region=431224", headers=data["county"]), 404)
    assert_error(api.get(f"{HOUSEHOLDS}?region=123456", headers=data["admin"]), 404)
    assert _ok(api, HOUSEHOLDS, data["admin"])["total"] == 5
    assert _ok(api, f"{HOUSEHOLDS}?page=2", data["admin"])["items"] == []
    assert_error(api.get(f"{HOUSEHOLDS}?page=x", headers=data["admin"]), 400)
    assert_error(api.get(HOUSEHOLDS, headers=data["buyer"]), 403)
    assert_error(api.get(HOUSEHOLDS), 401)


@pytest.mark.parametrize("who", ["county", "admin", "liaison"])
def test_fuzzed_report_operations_keep_their_contract(app, data, who):
    """tests/api/test_fuzz.py fuzzes as anonymous, buyer and seller (401 and 403 here); this
    fuzzes the report operations and the households list as an office, an admin and a
    liaison: no server error, every answer as documented (xlsx and CSV included)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )
    checks = [not_a_server_error, status_code_conformance, content_type_conformance,
              response_schema_conformance]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {**data[who], "Accept-Encoding": "identity"}
    failures, seen = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not (operation.path.startswith("/api/v1/reports/")
                or operation.path == HOUSEHOLDS):
            continue
        seen += 1

        @settings(max_examples=20, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate])
        @given(case=operation.as_strategy())
        def run(case):
            case.call_and_validate(headers=headers, checks=checks)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # collected, reported together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert seen == 6  # five report operations (the needs' match rate the newest) and households
    assert not failures, "\n\n".join(failures)

