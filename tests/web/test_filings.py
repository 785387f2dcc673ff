"""Filings through the pages (both engines): a unit admin files (prefilled from last year), the
office sends it back with a reason and approves it from its units page, the unit reads the
reason and its progress bar, the office's scope answers 404 elsewhere, the xlsx export opens
with openpyxl (title, Chinese headers, yuan as numbers with two decimals) and a platform admin
sets a regional minimum."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEntry
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.units import filings
from marketplace.units.models import FilingStatus, UnitFiling
from tests.fixtures.factories import make_user, region
from tests.fixtures.units import make_unit

YEAR = filings.china_day(now_utc()).year


def text(resp) -> str:
    return resp.get_data(as_text=True)


@pytest.fixture
def world(make):
    def build(session):
        admin = make_user(session, Role.buyer, login="unitadmin@example.test")
        make_user(session, Role.office, login="office@example.test",
                  region_obj=region(session, "430525"))
        make_user(session, Role.office, login="xupu@example.test",
                  region_obj=region(session, "431224"))
        make_user(session, Role.platform_admin, login="admin@example.test")
        make_user(session, Role.buyer, login="buyer@example.test")
        unit = make_unit(session, name="洞口县财政局", admin=admin)
        session.add(UnitFiling(unit_id=unit.id, year=YEAR - 1, canteen_spend_fen=8_000_050,
                               reserved_share_bp=1250, reserved_fen=1_000_007,
                               status=FilingStatus.approved))
        return unit.id

    return make(build)


def filing(app, unit_id, year=YEAR) -> UnitFiling | None:
    with app.app_context():
        row = filings.filing_for(db.session, unit_id, year)
        if row is not None:
            db.session.expunge(row)
        return row


def test_file_send_back_file_again_approve(app, client, make_client, world):
    unit_id = world
    client.login("unitadmin@example.test")
    page = client.get(f"/units/{unit_id}/filings")
    assert page.status_code == 200
    assert 'value="80000.50"' in text(page) and 'value="12.5"' in text(page)  # last year's
    assert "已按上一年度的填报预先填写" in text(page)

    low = client.post_form(f"/units/{unit_id}/filings?year={YEAR}", {
        "mode": "canteen", "canteen_spend": "120000", "reserved_share_bp": "9.5"})
    assert low.status_code == 422 and "不能低于本地区的最低比例 10%" in text(low)
    assert filing(app, unit_id) is None

    done = client.post_form(f"/units/{unit_id}/filings?year={YEAR}", {
        "mode": "canteen", "canteen_spend": "120,000.00", "reserved_share_bp": "10"})
    assert done.status_code == 302
    first = filing(app, unit_id)
    assert (first.status, first.reserved_fen) == (FilingStatus.pending, 1_200_000)

    office = make_client()
    office.login("office@example.test")
    units = office.get(f"/office/units?year={YEAR}")
    assert units.status_code == 200
    assert "洞口县财政局" in text(units) and "data-confirm" in text(units)
    assert " style=" not in text(units)  # CSP: no inline style attributes
    back = office.post_form(f"/filings/{first.id}/review", {
        "decision": "send_back", "reason": "请按决算数填报", "next": "/office/units"})
    assert back.status_code == 302 and back.headers["Location"].endswith("/office/units")
    assert filing(app, unit_id).status == FilingStatus.sent_back

    mine = client.get(f"/units/{unit_id}/filings")
    assert "请按决算数填报" in text(mine) and "已退回" in text(mine)
    again = client.post_form(f"/units/{unit_id}/filings?year={YEAR}", {
        "mode": "canteen", "canteen_spend": "130000", "reserved_share_bp": "10"})
    assert again.status_code == 302

    office.post_form(f"/filings/{first.id}/review", {"decision": "approve", "reason": ""})
    final = filing(app, unit_id)
    assert (final.status, final.reserved_fen) == (FilingStatus.approved, 1_300_000)
    mine = client.get(f"/units/{unit_id}/filings")
    assert "已审核通过，预留金额已固定" in text(mine) and "<progress" in text(mine)
    assert 'name="canteen_spend"' not in text(mine)  # no form once approved
    fixed = client.post_form(f"/units/{unit_id}/filings?year={YEAR}", {
        "mode": "no_canteen"})
    assert fixed.status_code == 422 and "预留金额已固定" in text(fixed)

    history = office.get(f"/filings/{first.id}")
    assert history.status_code == 200
    for words in ("请按决算数填报", "审核通过", "提交：食材支出 130000.00"):
        assert words in text(history)


def test_send_back_without_a_reason_changes_nothing(app, client, world):
    unit_id = world
    client.login("unitadmin@example.test")
    client.post_form(f"/units/{unit_id}/filings?year={YEAR}", {"mode": "no_canteen"})
    row = filing(app, unit_id)
    client.logout()
    client.login("office@example.test")
    resp = client.post_form(f"/filings/{row.id}/review", {"decision": "send_back",
                                                          "reason": ""}, follow_redirects=True)
    assert "请填写退回原因" in text(resp)
    assert filing(app, unit_id).status == FilingStatus.pending


def test_office_scope_and_roles(app, client, make_client, world):
    unit_id = world
    client.login("unitadmin@example.test")
    client.post_form(f"/units/{unit_id}/filings?year={YEAR}", {"mode": "no_canteen"})
    row = filing(app, unit_id)
    xupu = make_client()
    xupu.login("xupu@example.test")
    assert "/office/units" in text(xupu.get("/office"))  # the office page links to its units
    assert "洞口县财政局" not in text(xupu.get("/office/units"))
    assert xupu.get(f"/filings/{row.id}").status_code == 404
    assert xupu.get(f"/units/{unit_id}/filings").status_code == 404
    assert xupu.post_form(f"/filings/{row.id}/review",
                          {"decision": "approve"}).status_code == 404
    assert filing(app, unit_id).status == FilingStatus.pending
    buyer = make_client()
    buyer.login("buyer@example.test")
    assert buyer.get("/office/units").status_code == 403
    assert buyer.get("/office/units.xlsx").status_code == 403
    assert buyer.get(f"/units/{unit_id}/filings").status_code == 404
    assert client.get("/office/units").status_code == 403  # a unit admin is no office


def test_the_xlsx_export(app, client, world):
    unit_id = world
    client.login("office@example.test")
    resp = client.get(f"/office/units.xlsx?year={YEAR - 1}")
    assert resp.status_code == 200
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ws = load_workbook(io.BytesIO(resp.data)).active
    title = ws["A1"].value
    assert "洞口县" in title and str(YEAR - 1) in title
    headers = [c.value for c in ws[2]]
    assert headers[:4] == ["单位名称", "统一社会信用代码", "所在地区", "填报状态"]
    assert ws.freeze_panes == "A3"
    row = {h: c for h, c in zip(headers, ws[3])}
    assert row["单位名称"].value == "洞口县财政局" and row["填报状态"].value == "已通过"
    spend, reserved = row["食堂食材支出（元）"], row["预留金额（元）"]
    assert isinstance(spend.value, (int, float)) and Decimal(str(spend.value)) == Decimal(
        "80000.50")
    assert Decimal(str(reserved.value)) == Decimal("10000.07")
    assert spend.number_format == reserved.number_format == "#,##0.00"
    assert row["预留比例"].value == pytest.approx(0.125) and row["预留比例"].number_format == "0.00%"
    assert row["完成比例"].value == 0
    assert ws.column_dimensions["A"].width >= 12
    assert ws.max_row == 3
    assert unit_id


def test_a_platform_admin_sets_a_regional_minimum(app, client, world):
    unit_id = world
    client.login("admin@example.test")
    assert client.get("/admin/reserve-minimums").status_code == 200
    bad = client.post_form("/admin/reserve-minimums", {"region_code": "43", "share": "150"})
    assert bad.status_code == 400
    ok = client.post_form("/admin/reserve-minimums", {"region_code": "43", "share": "15"})
    assert ok.status_code == 302
    assert "15%" in text(client.get("/admin/reserve-minimums"))
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).where(
            AuditEntry.object_type == "region")) == "reserve_minimum_set"
    client.logout()
    client.login("unitadmin@example.test")
    page = client.get(f"/units/{unit_id}/filings")
    assert "本地区最低预留比例：15%" in text(page)
    low = client.post_form(f"/units/{unit_id}/filings?year={YEAR}", {
        "mode": "canteen", "canteen_spend": "1000", "reserved_share_bp": "12"})
    assert low.status_code == 422 and "15%" in text(low)
