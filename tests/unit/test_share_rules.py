"""The households' share shown before paying (rules.estimate_fen over rules.ShareTerms) is the
posting rule (rules.line_share_fen, which post_sale calls): exact parts, the product's share
before its seller's, lots that cover fewer units than bought, nobody to give to."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.core.templating import percent_text
from marketplace.ledger import rules
from marketplace.ledger.rules import ShareTerms, estimate_fen, line_share_fen

PRICES = st.integers(1, 9_999_999)  # core.money.MAX_PRICE_FEN
QUANTITIES = st.integers(1, 999)
SHARES = st.integers(0, rules.SHARE_MAX_BP)


def test_a_30_percent_share_of_39_yuan_is_11_yuan_70():
    assert estimate_fen(ShareTerms(3000, False, None), 3900) == 1170
    assert estimate_fen(ShareTerms(3000, False, None), 3900, 2) == 2340


@given(price=PRICES, quantity=QUANTITIES, share=SHARES)
def test_without_lots_the_estimate_is_what_posting_credited_before_the_refactor(
        price, quantity, share):
    """post_sale credited floor(net x share / 10000) to a line of the seller's households; the
    one rule gives that, shown and posted."""
    net = price * quantity
    assert estimate_fen(ShareTerms(share, False, None), price, quantity) \
        == rules.attributable_fen(net, share) == line_share_fen(net, quantity, share, quantity)
    assert line_share_fen(net, quantity, share, quantity) * 10_000 <= net * share


@given(price=PRICES, quantity=QUANTITIES, share=SHARES, held=st.integers(0, 2_000))
def test_with_lots_the_estimate_covers_the_units_the_lots_hold(price, quantity, share, held):
    """A lot-backed line draws min(quantity, units held) at payment; posting credited
    attributable_fen(net, share, drawn, quantity)."""
    net = price * quantity
    drawn = sum(d.quantity for d in rules.draw_fifo([rules.Lot(1, 7, held)], quantity))
    terms = ShareTerms(share, True, held)
    assert rules.covered_units(terms, quantity) == drawn == min(quantity, held)
    assert estimate_fen(terms, price, quantity) \
        == rules.attributable_fen(net, share, drawn, quantity)
    assert estimate_fen(terms, price, quantity) <= estimate_fen(
        ShareTerms(share, False, None), price, quantity)


@given(price=PRICES, quantity=QUANTITIES, share=SHARES,
       weights=st.dictionaries(st.integers(1, 10_000), st.integers(1, 1_000_000),
                               min_size=1, max_size=12))
def test_the_households_parts_sum_exactly_to_the_estimate(price, quantity, share, weights):
    amount = estimate_fen(ShareTerms(share, False, None), price, quantity)
    assert sum(rules.split_among(amount, weights).values()) == amount


def test_nobody_to_give_to_gives_nothing():
    assert estimate_fen(ShareTerms(5000, False, 0), 3900, 3) == 0  # no households
    assert estimate_fen(ShareTerms(5000, True, 0), 3900, 3) == 0  # no lot holds a unit
    assert estimate_fen(ShareTerms(0, False, None), 3900, 3) == 0  # no share


def test_lots_that_fall_short_cover_only_their_units():
    terms = ShareTerms(2000, True, 3)
    assert rules.covered_units(terms, 5) == 3
    assert estimate_fen(terms, 10000, 5) == 50000 * 2000 * 3 // (10000 * 5) == 6000
    assert estimate_fen(terms, 10000, 2) == 4000


def test_the_product_share_wins_over_the_seller_share():
    assert rules.share_bp_of(None, 3000) == 3000
    assert rules.share_bp_of(0, 3000) == 0
    assert rules.share_bp_of(3333, 3000) == 3333


def test_a_quantity_must_be_positive():
    with pytest.raises(ValueError):
        estimate_fen(ShareTerms(3000, False, None), 3900, 0)


@pytest.mark.parametrize("bp, text", [(3000, "30%"), (1250, "12.5%"), (3333, "33.33%"),
                                      (10000, "100%"), (0, "0%"), (5, "0.05%"),
                                      (None, ""), (-250, "-2.5%"), (-5, "-0.05%")])
def test_percent_text(bp, text):
    assert percent_text(bp) == text
