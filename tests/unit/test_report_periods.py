"""Report periods (pure): names, the period before, a year before, and the rounding of shares."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.core.errors import ValidationFailed
from marketplace.reports import periods

days = st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 12, 31))


@pytest.mark.parametrize("text,start,end", [
    ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)),
    ("2026-q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
])
def test_named_periods(text, start, end):
    period = periods.parse(text)
    assert (period.start, period.end) == (start, end)
    assert periods.parse(period.name) == period


@pytest.mark.parametrize("text", ["", "2026-13", "2026-Q5", "26-11", "1999", "2026-11-01",
                                  "abc", "2026-00"])
def test_bad_names_get_a_chinese_message(text):
    with pytest.raises(ValidationFailed) as err:
        periods.parse(text)
    assert "统计期" in str(err.value)


def test_dates_between_and_the_defaults():
    today = date(2026, 12, 3)
    assert periods.from_args({}, today) == periods.month(2026, 12)
    assert periods.from_args({"from": "2026-11-01", "to": "2026-11-30"}, today).kind == "month"
    assert periods.from_args({"from": "2026-11-05"}, today) == periods.Period(
        date(2026, 11, 5), today)
    for bad in ({"from": "2026-11-31"}, {"from": "2026-12-02", "to": "2026-12-01"},
                {"from": "9999-12-01", "to": "9999-12-31"}, {"from": "2020-01-01"}):
        with pytest.raises(ValidationFailed):
            periods.from_args(bad, today)


@given(start=days, length=st.integers(1, 400))
def test_the_period_before_ends_the_day_before_and_is_as_long(start, length):
    period = periods.between(start, start + timedelta(days=length - 1))
    before = periods.previous(period)
    assert before.end == period.start - timedelta(days=1)
    if period.kind == periods.DAYS:
        assert before.days == period.days
    else:
        assert before.kind == period.kind


@given(start=days, length=st.integers(1, 400))
def test_a_year_before_is_the_same_dates(start, length):
    period = periods.between(start, start + timedelta(days=length - 1))
    earlier = periods.year_before(period)
    assert earlier.start.year == period.start.year - 1 and earlier.kind == period.kind
    assert earlier.start.month == period.start.month
    assert abs(earlier.days - period.days) <= 1  # a 29 February


@given(part=st.integers(0, 10**9), whole=st.integers(1, 10**9))
def test_shares_round_half_up(part, whole):
    bp = periods.share_bp(part, whole)
    assert abs(bp * whole - part * 10000) * 2 <= whole  # within half a basis point
    assert periods.change_bp(5, 0) is None and periods.change_bp(150, 100) == 5000
    assert periods.change_bp(50, 100) == -5000 and periods.round_half_up(-5, 2) == -3
