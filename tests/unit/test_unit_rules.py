"""Properties of units.rules (hypothesis): tiers and prices, the reserved amount of a filing, the
regional minimum, progress and the deadline; and the filing helpers of units.filings that are
pure (percent parsing, deadlines, the year's target)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from marketplace.core.errors import ValidationFailed
from marketplace.core.time import CHINA
from marketplace.units import filings, rules
from marketplace.units.rules import Tier

prices = st.integers(min_value=1, max_value=10_000_000)
quantities = st.integers(min_value=0, max_value=100_000)


@st.composite
def valid_tiers(draw):
    """A catalogue price and 1..MAX_TIERS tiers going up in quantity and down in price, none
    above the catalogue price."""
    list_price = draw(st.integers(min_value=rules.MAX_TIERS, max_value=10_000_000))
    n = draw(st.integers(min_value=1, max_value=rules.MAX_TIERS))
    mins = sorted(draw(st.sets(st.integers(min_value=1, max_value=10_000), min_size=n,
                               max_size=n)))
    tier_prices = sorted(draw(st.sets(st.integers(min_value=1, max_value=list_price),
                                      min_size=n, max_size=n)), reverse=True)
    return list_price, [Tier(q, p) for q, p in zip(mins, tier_prices)]


@given(valid_tiers())
def test_valid_tiers_have_no_problems(case):
    list_price, tiers = case
    assert rules.tier_problems(list_price, tiers) == []


@given(valid_tiers(), st.integers(min_value=1, max_value=100_000))
def test_unit_price_never_exceeds_the_starting_price(case, total):
    """With anything committed the price is at most what a participant paid when joining (so
    the close only gives money back); with nothing, the catalogue price."""
    list_price, tiers = case
    start = rules.starting_price(list_price, tiers)
    assert start <= list_price
    assert 1 <= rules.unit_price(list_price, tiers, total) <= start
    assert rules.unit_price(list_price, tiers, 0) == list_price


@given(valid_tiers(), quantities, quantities)
def test_more_quantity_never_costs_more(case, a, b):
    list_price, tiers = case
    low, high = sorted((a, b))
    assert rules.unit_price(list_price, tiers, high) <= rules.unit_price(list_price, tiers, low)


@given(valid_tiers(), quantities)
def test_next_tier_is_the_first_above_and_names_what_is_missing(case, total):
    list_price, tiers = case
    found = rules.next_tier(tiers, total)
    if found is None:
        assert total >= tiers[-1].min_quantity
        return
    tier, missing = found
    assert missing == tier.min_quantity - total > 0
    assert all(t.min_quantity <= total for t in tiers if t.min_quantity < tier.min_quantity)
    # reaching it gives its price (or a lower one: never the price before)
    assert rules.unit_price(list_price, tiers, total + missing) == tier.price_fen


@given(valid_tiers(), st.data())
def test_a_tier_out_of_order_or_above_the_price_is_a_problem(case, data):
    list_price, tiers = case
    above = [Tier(tiers[0].min_quantity, list_price + 1), *tiers[1:]]
    assert rules.tier_problems(list_price, above)
    if len(tiers) > 1:
        i = data.draw(st.integers(min_value=1, max_value=len(tiers) - 1))
        swapped = list(tiers)
        swapped[i - 1], swapped[i] = swapped[i], swapped[i - 1]
        assert rules.tier_problems(list_price, swapped)
    assert rules.tier_problems(list_price, []) == ["每个商品至少设置一档团购价"]


spend = st.integers(min_value=0, max_value=10**12)
share = st.integers(min_value=0, max_value=10000)


@given(spend, share)
def test_reserved_is_never_below_the_share_and_within_a_fen(spend_fen, share_bp):
    reserved = rules.reserved_fen(spend_fen, share_bp)
    exact_times_10000 = spend_fen * share_bp
    assert reserved * 10000 >= exact_times_10000  # never below the share
    assert (reserved - 1) * 10000 < exact_times_10000 or reserved == 0  # at most a fen above
    assert 0 <= reserved <= spend_fen


@given(spend, share, share)
def test_a_larger_share_reserves_no_less(spend_fen, a, b):
    low, high = sorted((a, b))
    assert rules.reserved_fen(spend_fen, low) <= rules.reserved_fen(spend_fen, high)


@pytest.mark.parametrize("args", [(-1, 1000), (100, -1), (100, 10001)])
def test_reserved_refuses_what_cannot_be(args):
    with pytest.raises(ValueError):
        rules.reserved_fen(*args)


codes = st.lists(st.integers(min_value=10, max_value=99), min_size=1, max_size=5)


@given(codes, st.dictionaries(st.integers(min_value=0, max_value=4), share, max_size=5),
       st.integers(min_value=0, max_value=10000))
def test_minimum_share_is_the_deepest_set_on_the_path(parts, set_at, default_bp):
    path = "/" + "/".join(str(p) for p in parts) + "/"
    prefixes = ["/" + "/".join(str(p) for p in parts[:i + 1]) + "/" for i in range(len(parts))]
    minimums = {prefixes[d]: bp for d, bp in set_at.items() if d < len(prefixes)}
    minimums["/0/"] = 9999  # another subtree never applies
    deepest = max((d for d in set_at if d < len(prefixes)), default=None)
    expected = default_bp if deepest is None else set_at[deepest]
    assert rules.minimum_share_bp(path, minimums, default_bp) == expected


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=-10, max_value=10**12))
def test_progress(counted, reserved):
    progress = rules.progress_bp(counted, reserved)
    if reserved <= 0:
        assert progress is None
    else:
        assert progress >= 0 and (progress >= 10000) == (counted >= reserved)


@given(st.integers(min_value=0, max_value=10000))
def test_percent_text_reads_back(bp):
    assert filings.parse_percent(filings.percent_text(bp)) == bp


@pytest.mark.parametrize("text", ["", "abc", "-1", "100.01", "12.345", "1e2", "101"])
def test_parse_percent_refuses(text):
    with pytest.raises(ValidationFailed):
        filings.parse_percent(text)


@given(st.integers(min_value=2021, max_value=2100),
       st.dates(min_value=date(2020, 1, 1), max_value=date(2101, 12, 31)))
def test_the_target_of_a_year(year, today):
    target = filings.target_bp(year, today)
    assert 0 <= target <= 10000
    assert filings.target_bp(year, today + timedelta(days=1)) >= target
    if today.year > year:
        assert target == 10000
    if today.year < year:
        assert target == 0


@given(st.integers(min_value=2021, max_value=2100), st.integers(min_value=1, max_value=12),
       st.integers(min_value=1, max_value=31))
def test_deadline_is_in_its_year_and_month(year, month, day):
    due = filings.deadline(year, f"{month:02d}-{day:02d}")
    assert (due.year, due.month) == (year, month) and due.day <= day
    assert rules.filing_deadline(year) == date(year, 3, 31)


@given(st.datetimes(min_value=datetime(2021, 1, 1), max_value=datetime(2100, 1, 1),
                    timezones=st.just(CHINA)))
def test_latest_open_year(now):
    year = filings.latest_open_year(now)
    assert filings.opens_on(year) <= now.date()
    assume(year < 2100)
    assert filings.opens_on(year + 1) > now.date()
