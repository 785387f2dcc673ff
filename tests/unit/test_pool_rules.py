"""The pool's pure rules: hashes, signs, receipt numbers, months and what a pledge makes due."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.core.time import CHINA
from marketplace.help.pool import rules

AT = datetime(2026, 11, 30, 17, 0, 0, 123456, tzinfo=UTC)


def test_pledge_due_rounds_half_up():
    assert rules.pledge_due_fen(12_345, 200) == 247  # 246.9
    assert rules.pledge_due_fen(125, 200) == 3  # 2.5 -> 3
    assert rules.pledge_due_fen(124, 200) == 2  # 2.48
    assert rules.pledge_due_fen(100_00, 10_000) == 100_00
    assert rules.pledge_due_fen(0, 200) == 0
    assert rules.pledge_due_fen(-500, 200) == 0  # refunds beyond sales owe nothing
    with pytest.raises(ValueError):
        rules.pledge_due_fen(100, 0)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=1, max_value=10_000))
def test_pledge_due_is_the_nearest_fen(net, bp):
    due = rules.pledge_due_fen(net, bp)
    exact = net * bp / 10_000
    assert abs(due - exact) <= 0.5 + 1e-9
    assert 0 <= due <= net


def test_months():
    assert rules.months_between(date(2026, 11, 15), date(2027, 2, 1)) == [
        202611, 202612, 202701, 202702]
    assert rules.months_between(date(2026, 11, 15), date(2026, 11, 1)) == []
    assert rules.month_bounds(202612) == (date(2026, 12, 1), date(2026, 12, 31))
    assert rules.month_bounds(202602) == (date(2026, 2, 1), date(2026, 2, 28))
    assert rules.month_label(202611) == "2026-11"
    assert rules.parse_month("2026-11") == 202611 and rules.parse_month("202613") is None
    assert rules.parse_month("abc") is None and rules.month_key(date(2026, 1, 31)) == 202601


@pytest.mark.parametrize("text, bp", [("2", 200), ("2.5", 250), ("0.01", 1), ("100", 10_000),
                                      ("2%", 200), ("", None), ("2.555", None), ("-1", None),
                                      ("a", None)])
def test_percent_to_bp(text, bp):
    assert rules.percent_to_bp(text) == bp


def test_hashes_chain_and_cover_every_field():
    first = rules.digest(rules.GENESIS_HASH, 1, "donation", 500, 7, None, AT)
    assert len(first) == 64
    changed = [rules.digest(rules.GENESIS_HASH, 2, "donation", 500, 7, None, AT),
               rules.digest(rules.GENESIS_HASH, 1, "donation", 501, 7, None, AT),
               rules.digest(rules.GENESIS_HASH, 1, "donation", 500, 8, None, AT),
               rules.digest(rules.GENESIS_HASH, 1, "refund", 500, 7, None, AT),
               rules.digest(first, 1, "donation", 500, 7, None, AT)]
    assert first not in changed and len(set(changed)) == 5
    link = rules.Link(1, "donation", 500, 7, None, AT, rules.GENESIS_HASH, first)
    assert rules.link_problem(link, 1, rules.GENESIS_HASH) is None
    assert "哈希" in rules.link_problem(replace(link, amount_fen=600), 1, rules.GENESIS_HASH)
    assert "类型" in rules.link_problem(replace(link, amount_fen=-500), 1, rules.GENESIS_HASH)
    assert "编号" in rules.link_problem(link, 2, rules.GENESIS_HASH)


def test_signs_and_amounts():
    assert rules.sign_fits("donation", 1) and not rules.sign_fits("donation", -1)
    assert rules.sign_fits("allocation", -1) and rules.sign_fits("refund", -1)
    assert not rules.sign_fits("allocation", 0)
    assert rules.donation_amount_problem(0) and rules.donation_amount_problem(100_000_001)
    assert rules.donation_amount_problem(1) is None


def test_receipt_numbers_use_the_china_day():
    assert rules.receipt_no(42, AT, CHINA) == "JZ2026120100000042"  # 01:00 in Beijing
