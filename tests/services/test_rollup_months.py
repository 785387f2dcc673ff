"""The reports' monthly pre-aggregates (`ledger.rollup`): where households and sellers are, the
period keys, and the multi-row upserts (several statements when there are many rows). Both
engines, on a real session."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from marketplace.ledger import rollup
from marketplace.ledger.models import IncomeMonth
from marketplace.reports import periods
from tests.fixtures.factories import make_household, make_seller, region


def test_period_keys_are_the_periods_keys():
    for day in (date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 1), date(2026, 11, 30),
                date(2026, 12, 31), date(2024, 2, 29)):
        month, quarter, year = rollup.period_keys(day)
        assert month == periods.month(day.year, day.month).key
        assert quarter == periods.quarter(day.year, (day.month + 2) // 3).key
        assert year == periods.year(day.year).key
    assert rollup.period_keys(date(2026, 11, 3)) == (202611, 20264, 2026)
    assert periods.between(date(2026, 11, 3), date(2026, 11, 20)).key is None


def test_area_path_is_the_county_or_the_region_itself():
    assert rollup.area_path("/43/4305/430525/430525101/430525101201/") == "/43/4305/430525/"
    assert rollup.area_path("/43/4305/430525/") == "/43/4305/430525/"
    assert rollup.area_path("/43/4305/") == "/43/4305/"


def test_places_are_counties(session):
    household = make_household(session, village_code="430525101201")
    seller = make_seller(session, region_code="430525101")
    high = make_seller(session, region_code="43")  # above a county: its own area
    session.flush()
    found = rollup.places(session.connection(), [household.id], [seller.id, high.id])
    county = region(session, "430525")
    assert found.households == {household.id: (household.village_id, county.id)}
    assert found.sellers == {seller.id: county.id, high.id: region(session, "43").id}


def test_upserts_add_many_rows_in_several_statements(session):
    area = region(session, "430525").id
    rows = {(area, 202611, "individual", category, "cooperative"): [category, 1]
            for category in range(1, rollup.ROWS_PER_STATEMENT * 2 + 51)}
    conn = session.connection()
    rollup.upsert(conn, rollup.INCOME_MONTHS, rows)
    rollup.upsert(conn, rollup.INCOME_MONTHS, rows)  # the second adds to the first
    count, amount, entries = session.execute(
        select(func.count(), func.sum(IncomeMonth.amount_fen), func.sum(IncomeMonth.entries))
        .where(IncomeMonth.area_id == area)).one()
    assert count == len(rows)
    assert amount == 2 * sum(v[0] for v in rows.values())
    assert entries == 2 * len(rows)
