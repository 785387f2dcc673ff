import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.core.money import (
    MoneyFormatError,
    fen_to_yuan_text,
    format_fen,
    money_json,
    parse_yuan,
    split_largest_remainder,
)


@pytest.mark.parametrize("text,fen", [
    ("12", 1200), ("12.5", 1250), ("12.50", 1250), ("0.01", 1), ("¥1,234.56", 123456),
    ("￥ 8.8", 880), (" 99999.99 ", 9999999), ("0", 0), ("１２．５", 1250),
])
def test_parse_yuan(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize("text", ["", "abc", "-1", "1.234", "1e3", "12.", ".5", "NaN", "inf",
                                  "1 2", None, "٣"])
def test_parse_yuan_rejects(text):
    with pytest.raises(MoneyFormatError):
        parse_yuan(text)


def test_formatting():
    assert format_fen(123456) == "¥1,234.56"
    assert format_fen(5) == "¥0.05"
    assert format_fen(-250) == "-¥2.50"
    assert fen_to_yuan_text(1250) == "12.50"
    assert money_json(1250) == {"amount": 1250, "currency": "CNY"}


@given(st.integers(min_value=0, max_value=10**13))
def test_round_trip_through_text(fen):
    assert parse_yuan(fen_to_yuan_text(fen)) == fen


@given(st.integers(min_value=0, max_value=10**10),
       st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30)
       .filter(lambda ws: sum(ws) > 0))
def test_split_sums_exactly_and_is_fair(total, weights):
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    W = sum(weights)
    for p, w in zip(parts, weights):
        # each part is its exact share rounded down or up by less than one fen
        assert p * W - total * w > -W and p * W - total * w < W
        if w == 0:
            assert p == 0


def test_split_tie_break_is_deterministic():
    assert split_largest_remainder(1, [1, 1, 1]) == [1, 0, 0]
    assert split_largest_remainder(2, [1, 1, 1]) == [1, 1, 0]
    assert split_largest_remainder(100, [1, 2]) == [33, 67]


def test_split_rejects_bad_input():
    with pytest.raises(ValueError):
        split_largest_remainder(5, [0, 0])
    with pytest.raises(ValueError):
        split_largest_remainder(-1, [1])
    assert split_largest_remainder(0, [0, 0]) == [0, 0]
