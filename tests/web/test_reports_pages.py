"""The office report pages through the test client, both engines: an office sees its subtree
(404 elsewhere), an admin everywhere; the period presets and dates, a bad date is a Chinese
message (400); the drill-down from a county to a household's statement; every table with the
figures of `reports.figures.report` and its downloads."""
from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.core.money import format_fen
from marketplace.core.time import CHINA
from marketplace.extensions import db
from marketplace.households.models import HouseholdStatus
from marketplace.orders import services as orders
from marketplace.orders.offline import OfflineLine, OfflineSaleInput
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import refunds
from marketplace.payments.capture import record_payment
from marketplace.payments.offline import record_offline_sale
from marketplace.regions.models import Region
from marketplace.reports import figures, periods
from marketplace.sellers.models import SellerKind
from tests.fixtures.factories import (
    DELIVERY,
    make_household,
    make_product,
    make_seller,
    make_user,
    region,
)

COUNTY, TOWNSHIP, HONGXI, GULOU = "430525", "430525101", "430525101201", "430525101202"
OTHER_COUNTY = "431224"
URL = "/office/reports"
NOVEMBER = periods.month(2026, 11)


def china(y, m, d, hour=10) -> datetime:
    return datetime(y, m, d, hour, tzinfo=CHINA).astimezone(UTC)


@dataclass
class Sales:
    """What build_sales made (ids, to look things up in another session)."""
    office: int
    admin: int
    liaison: int
    monitored: int  # household ids
    poor: int
    gulou: int
    elsewhere: int
    idle: int


def build_sales(session) -> Sales:
    """Households in 洪溪村 (a monitored one with its own shop, a poor one, one without any
    income), 古楼村 and 溆浦县; a household shop, a cooperative of the township and an
    enterprise elsewhere; online sales in October and November 2026 (one partly refunded) and
    an offline sale at a fair in November."""
    liaison = make_user(session, Role.liaison, login="liaison-r@example.test", name="联络人乙")
    monitored = make_household(session, village_code=HONGXI, name="王大山",
                               status=HouseholdStatus.monitored, liaison=liaison)
    poor = make_household(session, village_code=HONGXI, name="李小红", liaison=liaison)
    idle = make_household(session, village_code=HONGXI, name="赵四", liaison=liaison)
    gulou = make_household(session, village_code=GULOU, name="陈五")
    elsewhere = make_household(session, village_code="431224210201", name="周六",
                               status=HouseholdStatus.lifted)
    shop = make_seller(session, kind=SellerKind.household_shop, household=monitored,
                       region_code=HONGXI, name="王大山的茶叶小店")
    shop.household_share_bp = 10000
    coop = make_seller(session, region_code=TOWNSHIP, name="月溪镇稻米合作社",
                       members=[(poor, 1), (gulou, 1)])
    coop.household_share_bp = 3000
    firm = make_seller(session, kind=SellerKind.enterprise, region_code=OTHER_COUNTY,
                       name="溆浦带农食品公司", members=[(elsewhere, 1)])
    firm.household_share_bp = 2000
    tea = make_product(session, shop, name="洪溪土茶", price_fen=5000, stock=100)
    rice = make_product(session, coop, name="月溪香米", category_slug="rice-grain",
                        price_fen=4000, stock=100)
    snack = make_product(session, firm, name="溆浦红薯干", category_slug="dried",
                         price_fen=3000, stock=100)
    buyer = make_user(session, Role.buyer)
    admin = make_user(session, Role.platform_admin, login="admin-r@example.test")
    office = make_user(session, Role.office, login="office-r@example.test", name="洞口县帮扶办",
                       region_obj=region(session, COUNTY))
    staff = make_user(session, Role.buyer, Role.seller_staff, seller=coop)

    def buy(product, quantity, at, key):
        order, = orders.checkout(session, buyer, [LineInput(product.id, quantity)],
                                 AddressInput(**DELIVERY), idempotency_key=f"report-{key}")
        record_payment(session, order, provider="simulated", reference=f"sim-{key}",
                       amount_fen=order.total_fen, currency="CNY", now=at)
        return order

    buy(tea, 1, china(2026, 10, 5), "oct-tea")
    big = buy(tea, 4, china(2026, 11, 10), "nov-tea")
    refunds.refund(session, admin, big, amount_fen=5000, now=china(2026, 11, 20))
    buy(rice, 1, china(2026, 11, 12), "nov-rice")
    buy(snack, 2, china(2026, 11, 15), "nov-snack")
    record_offline_sale(session, staff, coop, OfflineSaleInput(
        sold_on=date(2026, 11, 18), place="洞口县消费帮扶集市", payment_method="cash",
        receipt_no="JS-001", lines=[OfflineLine(product_id=rice.id, quantity=2,
                                                unit_price=3800)]),
        now=china(2026, 11, 18, 16))
    session.commit()
    return Sales(office.id, admin.id, liaison.id, monitored.id, poor.id, gulou.id,
                 elsewhere.id, idle.id)


@pytest.fixture
def sales(app) -> Sales:
    with app.app_context():
        return build_sales(db.session)


def report_of(app, code: str | None, period=NOVEMBER, **kw) -> figures.Report:
    with app.app_context():
        place = db.session.scalar(select(Region).where(Region.code == code)) if code else None
        found = figures.report(db.session, place, period, **kw)
        db.session.expunge_all()
        return found


def text(resp) -> str:
    return htmllib.unescape(resp.get_data(as_text=True))


def row(page: str, attr: str, value: str) -> str:
    """The <tr> of a table with data-<attr>="value"."""
    found = re.search(rf'<tr data-{attr}="{re.escape(value)}">(.*?)</tr>', page, re.S)
    assert found, f"no row {attr}={value}"
    return found.group(1)


def cells(row_html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row_html, re.S)]


# ---- who sees what ----------------------------------------------------------------------------

def test_an_office_sees_its_county(client, app, sales):
    client.login("office-r@example.test")
    resp = client.get(URL, query_string={"period": "2026-11"})
    assert resp.status_code == 200
    page = text(resp)
    assert "帮扶成效统计" in page and "洞口县" in page and "2026年11月" in page
    assert "数据截至" in page
    found = report_of(app, COUNTY)
    assert found.now.attributed_fen > 0 and found.now.offline_fen > 0
    # the cards and the summary table carry the report's figures
    assert cells(row(page, "row", "sales_fen"))[1] == format_fen(found.now.sales_fen)
    assert cells(row(page, "row", "offline_fen"))[1] == format_fen(found.now.offline_fen)
    assert cells(row(page, "row", "online_fen"))[1] == format_fen(found.now.online_fen)
    assert cells(row(page, "row", "attributed_fen"))[1:3] == [
        format_fen(found.now.attributed_fen), format_fen(found.before.attributed_fen)]
    assert cells(row(page, "row", "reached"))[1] == str(found.now.reached)
    assert cells(row(page, "row", "registered"))[1] == str(found.now.registered)
    # the township below, with a drill-down link; 溆浦县 is not here
    township = row(page, "key", TOWNSHIP)
    assert f"region={TOWNSHIP}" in township and "period=2026-11" in township
    kid = next(c for c in found.children if c.key == TOWNSHIP)
    assert cells(township)[1] == format_fen(kid.figures.sales_fen)
    assert cells(township)[3] == format_fen(kid.figures.attributed_fen)
    assert "溆浦" not in page


def test_the_change_against_the_month_before(client, app, sales):
    client.login("office-r@example.test")
    page = text(client.get(URL, query_string={"period": "2026-11", "region": HONGXI}))
    found = report_of(app, HONGXI)
    bp = periods.change_bp(found.now.attributed_fen, found.before.attributed_fen)
    assert found.before.attributed_fen == 5000 and bp is not None
    arrow = "↑" if bp > 0 else "↓"
    from marketplace.core.templating import percent_text
    assert f"{arrow}{percent_text(abs(bp))}" in cells(row(page, "row", "attributed_fen"))[3]
    assert "无可比数据" in cells(row(page, "row", "attributed_fen"))[5]  # nothing a year before


def test_another_region_is_404(client, sales):
    client.login("office-r@example.test")
    assert client.get(URL, query_string={"region": OTHER_COUNTY}).status_code == 404
    assert client.get(URL, query_string={"region": "43"}).status_code == 404  # above the county
    assert client.get(URL, query_string={"region": "999999"}).status_code == 404
    assert client.get(URL + "/summary.xlsx",
                      query_string={"region": OTHER_COUNTY}).status_code == 404


def test_others_may_not(client, make, sales):
    assert client.get(URL).status_code == 302  # to the login page
    make.user(Role.buyer, login="buyer-r@example.test")
    client.login("buyer-r@example.test")
    assert client.get(URL).status_code == 403


def test_an_admin_sees_everywhere(client, app, sales):
    client.login("admin-r@example.test")
    page = text(client.get(URL, query_string={"period": "2026-11"}))
    assert "全国" in page
    found = report_of(app, None)
    assert cells(row(page, "row", "attributed_fen"))[1] == format_fen(found.now.attributed_fen)
    assert 'data-key="43"' in page  # the provinces below
    county = text(client.get(URL, query_string={"period": "2026-11", "region": OTHER_COUNTY}))
    assert "溆浦县" in county


def test_an_office_of_two_regions_chooses(client, make, sales):
    def build(session):
        user = make_user(session, Role.office, login="two-r@example.test",
                         region_obj=region(session, COUNTY))
        from marketplace.accounts.models import RoleGrant
        user.grants.append(RoleGrant(role=Role.office, region_id=region(session, OTHER_COUNTY).id))
        return user
    make(build)
    client.login("two-r@example.test")
    page = text(client.get(URL))
    assert "请选择地区" in page and f"region={COUNTY}" in page and f"region={OTHER_COUNTY}" in page
    assert client.get(URL, query_string={"region": OTHER_COUNTY}).status_code == 200


# ---- the period -------------------------------------------------------------------------------

def test_presets_and_dates(client, app, sales):
    client.login("office-r@example.test")
    page = text(client.get(URL))
    for label in ("本月", "上月", "本季度", "上季度", "本年", "上年"):
        assert f">{label}</a>" in page
    today = datetime.now(CHINA).date()
    assert periods.month(today.year, today.month).label in page  # this month by default
    # dates: 10 to 19 November holds the rice and the fair, not the tea's refund (20th)
    resp = client.get(URL, query_string={"from": "2026-11-10", "to": "2026-11-19"})
    assert resp.status_code == 200
    page = text(resp)
    assert "2026-11-10 至 2026-11-19" in page
    found = report_of(app, COUNTY, periods.between(date(2026, 11, 10), date(2026, 11, 19)))
    assert cells(row(page, "row", "attributed_fen"))[1] == format_fen(found.now.attributed_fen)
    assert 'value="2026-11-10"' in page and 'value="2026-11-19"' in page
    # a whole quarter by dates is the quarter
    page = text(client.get(URL, query_string={"from": "2026-10-01", "to": "2026-12-31"}))
    assert "2026年第4季度" in page


@pytest.mark.parametrize("args,message", [
    ({"from": "2026-13-01"}, "格式不对"),
    ({"from": "2026-11-20", "to": "2026-11-01"}, "结束日期不能早于开始日期"),
    ({"period": "November"}, "无法识别"),
    ({"from": "2020-01-01", "to": "2026-11-01"}, "统计期最长"),
])
def test_a_bad_period_is_a_message(client, sales, args, message):
    client.login("office-r@example.test")
    resp = client.get(URL, query_string=args)
    assert resp.status_code == 400
    page = text(resp)
    assert message in page and "帮扶成效统计" in page
    assert 'name="from"' in page  # the form is there to try again


# ---- drill-down -------------------------------------------------------------------------------

def test_drill_down_to_a_household_statement(client, app, sales):
    client.login("office-r@example.test")
    args = {"period": "2026-11"}
    township = text(client.get(URL, query_string={**args, "region": TOWNSHIP}))
    assert f"region={HONGXI}" in row(township, "key", HONGXI)
    village = text(client.get(URL, query_string={**args, "region": HONGXI}))
    found = report_of(app, HONGXI)
    assert found.households_level
    with app.app_context():
        from marketplace.households.models import Household
        code = db.session.get(Household, sales.monitored).code
    mine = row(village, "key", code)
    kid = next(c for c in found.children if c.key == code)
    assert cells(mine)[1] == "王*山"  # masked
    assert cells(mine)[3] == format_fen(kid.figures.attributed_fen)
    link = re.search(r'href="([^"]+/statement[^"]*)"', mine).group(1)
    assert "from=2026-11-01" in link and "to=2026-11-30" in link
    statement = client.get(link)
    assert statement.status_code == 200
    page = text(statement)
    assert "2026年11月" in page
    net = re.search(r'data-figure="net"><b>([^<]+)</b>', page).group(1)
    assert net == format_fen(kid.figures.attributed_fen)
    assert "洪溪土茶" in page


def test_statement_period_errors_are_messages(client, sales):
    client.login("office-r@example.test")
    resp = client.get(f"/households/{sales.monitored}/statement", query_string={"from": "x"})
    assert resp.status_code == 400 and "格式不对" in text(resp)
    whole = client.get(f"/households/{sales.monitored}/statement")
    assert whole.status_code == 200 and 'data-figure="net"' not in text(whole)


# ---- tables and downloads ---------------------------------------------------------------------

def test_every_table_and_its_downloads(client, app, sales):
    client.login("office-r@example.test")
    page = text(client.get(URL, query_string={"period": "2026-11"}))
    found = report_of(app, COUNTY)
    for split in found.by_channel:
        assert cells(row(page, "key", split.key))[1] == format_fen(split.sales_fen)
    offline = next(s for s in found.by_channel if s.key == "offline")
    assert "线下销售" in row(page, "key", "offline") and offline.sales_fen == 7600
    kinds = {s.key: s for s in found.by_seller_kind}
    assert cells(row(page, "key", "household_shop"))[3] == format_fen(
        kinds["household_shop"].attributed_fen)
    for point in found.trend:
        assert point.label in page
    raw = client.get(URL, query_string={"period": "2026-11"}).get_data(as_text=True)
    for table in ("summary", "trend", "channels", "seller_kinds", "categories", "regions"):
        for fmt in ("xlsx", "csv"):
            assert f"/office/reports/{table}.{fmt}?region={COUNTY}&amp;period=2026-11" in raw
    # the charts carry the same numbers for the script, and are hidden without it
    assert re.search(r"<div class=\"chart\" data-chart='[^']*\"kind\": \"trend\"", page)


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_a_download_has_the_page_figures(client, app, sales, fmt):
    client.login("office-r@example.test")
    resp = client.get(f"{URL}/regions.{fmt}", query_string={"region": COUNTY, "period": "2026-11"})
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    found = report_of(app, COUNTY)
    kid = next(c for c in found.children if c.key == TOWNSHIP)
    if fmt == "csv":
        body = resp.get_data().decode("utf-8")
        assert body.startswith("\ufeff")
        line = next(li for li in body.splitlines() if li.startswith(TOWNSHIP))
        assert f"{kid.figures.attributed_fen / 100:.2f}" in line.split(",")
    else:
        import io

        from openpyxl import load_workbook
        sheet = load_workbook(io.BytesIO(resp.get_data())).active
        rows = [[c.value for c in r] for r in sheet.iter_rows()]
        assert "洞口县" in str(rows[0][0]) and "2026年11月" in str(rows[0][0])
        mine = next(r for r in rows if r[0] == TOWNSHIP)
        assert round(mine[5] * 100) == kid.figures.attributed_fen


def test_english(client, sales):
    client.login("office-r@example.test")
    client.get("/lang/en")
    page = text(client.get(URL, query_string={"period": "2026-11"}))
    assert "Data as of" in page or "data as of" in page.lower()
    assert "This month" in page


# ---- households without income ----------------------------------------------------------------

def test_targeting_lists_households_without_income(client, app, sales):
    client.login("office-r@example.test")
    resp = client.get(URL + "/targeting", query_string={"period": "2026-11"})
    assert resp.status_code == 200
    page = text(resp)
    with app.app_context():
        from marketplace.households.models import Household
        idle = db.session.get(Household, sales.idle)
        earning = db.session.get(Household, sales.monitored)
        idle_code, earning_code = idle.code, earning.code
    mine = row(page, "key", idle_code)
    assert cells(mine)[1] == "赵*" and "洪溪村" in mine and "联络人乙" in mine
    assert f'data-key="{earning_code}"' not in page
    assert "溆浦" not in page
    assert f"/office/reports/targeting.xlsx?region={COUNTY}&amp;period=2026-11" in \
        resp.get_data(as_text=True)
    # October: the household with its own shop sold tea, the others are without income
    october = text(client.get(URL + "/targeting", query_string={"period": "2026-10"}))
    assert f'data-key="{earning_code}"' not in october and "其中监测户 0 户" in october


def test_notifying_the_liaisons(client, app, sales):
    client.login("office-r@example.test")
    # October: 李小红 and 赵四 (their liaison's) and 陈五 (no liaison) had no income
    resp = client.post_form(URL + f"/targeting/notify?region={COUNTY}&period=2026-10")
    assert resp.status_code == 302 and "/office/reports/targeting" in resp.headers["Location"]
    page = text(client.get(resp.headers["Location"]))
    assert "已通知 1 位帮扶联络人" in page and "有 1 户没有帮扶联络人" in page
    with app.app_context():
        from marketplace.notifications.models import Notification
        notes = db.session.scalars(select(Notification).where(
            Notification.user_id == sales.liaison)).all()
        assert len(notes) == 1 and "2 户" in notes[0].text
    # without the token: refused, nothing sent
    assert client.post(URL + f"/targeting/notify?region={COUNTY}&period=2026-11").status_code \
        == 400
    assert client.post_form(URL + f"/targeting/notify?region={OTHER_COUNTY}&period=2026-11"
                            ).status_code == 404


# ---- the ranking ------------------------------------------------------------------------------

def test_ranking_weights_and_publishing(client, app, sales):
    client.login("office-r@example.test")
    args = f"?region={TOWNSHIP}&period=2026-11"
    page = text(client.get(URL + "/ranking" + args))
    assert row(page, "key", HONGXI) and row(page, "key", GULOU)
    assert 'name="income" ' in page or 'name="income"' in page
    # weights that do not add up to 100: a message on the form
    bad = client.post_form(URL + "/ranking" + args, {"income": "50", "coverage": "30",
                                                     "growth": "15", "units": "15"})
    assert bad.status_code == 400 and "各项权重之和应为 100" in text(bad)
    nonsense = client.post_form(URL + "/ranking" + args, {"income": "x", "coverage": "30",
                                                          "growth": "15", "units": "15"})
    assert nonsense.status_code == 400 and "每项权重应为 0 到 100 的整数" in text(nonsense)
    good = client.post_form(URL + "/ranking" + args, {"income": "100", "coverage": "0",
                                                      "growth": "0", "units": "0"})
    assert good.status_code == 302
    page = text(client.get(URL + "/ranking" + args))
    assert "已保存考核指标权重" in page and 'value="100"' in page
    first = cells(row(page, "key", HONGXI))
    assert first[0] == "1" and first[3] == "100.00"  # income only: 洪溪村 earns most per household
    # publish twice: two versions, each downloadable as the notice
    for n in (1, 2):
        resp = client.post_form(URL + "/ranking/publish" + args, {"note": f"第{n}次"})
        assert resp.status_code == 302
    page = text(client.get(URL + "/ranking" + args))
    assert "第 2 版" in page and "第 1 版" in page and "第2次" in page
    raw = client.get(URL + "/ranking" + args).get_data(as_text=True)
    link = re.search(r'href="(/office/reports/ranking\.xlsx\?[^"]*version=1[^"]*)"', raw)
    notice = client.get(htmllib.unescape(link.group(1)))
    assert notice.status_code == 200
    import io

    from openpyxl import load_workbook
    rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(notice.get_data())).active
            .iter_rows()]
    assert "第 1 版" in rows[0][0]
    assert next(r for r in rows if r[3] == HONGXI)[0] == 1
    missing = client.get(URL + "/ranking.xlsx" + args + "&version=9")
    assert missing.status_code == 404


def test_ranking_of_another_region_is_404(client, sales):
    client.login("office-r@example.test")
    assert client.get(URL + "/ranking", query_string={"region": OTHER_COUNTY}).status_code == 404
    assert client.post_form(URL + f"/ranking/publish?region={OTHER_COUNTY}&period=2026-11"
                            ).status_code == 404
    assert client.post_form(URL + f"/ranking?region={OTHER_COUNTY}", {
        "income": "100", "coverage": "0", "growth": "0", "units": "0"}).status_code == 404


# ---- on a replica (MARKETPLACE_REPORTS_DATABASE_URL) ------------------------------------------

def test_the_pages_read_the_replica_and_write_the_primary(replica_app):
    """With the reports on a replica (PostgreSQL: the streaming standby; SQLite: a read-only
    engine on the file), the pages show the primary's figures once replayed and say how fresh
    they are; the notices and the weights are written on the primary."""
    from tests.fixtures.app import Client
    from tests.fixtures.databases import sync_replica
    with replica_app.app_context():
        db.session().expire_on_commit = False
        build_sales(db.session)
    sync_replica(replica_app)
    client = Client(replica_app.test_client())
    client.login("office-r@example.test")
    page = text(client.get(URL, query_string={"period": "2026-11"}))
    found = report_of(replica_app, COUNTY)
    assert cells(row(page, "row", "attributed_fen"))[1] == format_fen(found.now.attributed_fen)
    assert "数据截至" in page
    household = text(client.get(URL, query_string={"period": "2026-11", "region": HONGXI}))
    assert "/statement?" in household
    resp = client.post_form(URL + f"/targeting/notify?region={COUNTY}&period=2026-10")
    assert resp.status_code == 302
    weights = client.post_form(URL + f"/ranking?region={TOWNSHIP}&period=2026-11", {
        "income": "70", "coverage": "10", "growth": "10", "units": "10"})
    assert weights.status_code == 302
    sync_replica(replica_app)
    assert 'value="70"' in text(client.get(weights.headers["Location"]))
