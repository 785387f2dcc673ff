"""Attribution rules and the hash chain (pure functions), with property tests: any amounts,
weights and sequences of partial refunds give exact sums and never a negative holding; any edit,
deletion or reordering of a chain is found at the entry where it happened."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.ledger.rules import (
    GENESIS_HASH,
    REVERSAL,
    SALE,
    Draw,
    Lot,
    attributable_fen,
    draw_fifo,
    first_break,
    lot_weights,
    make_entry,
    reversal_parts,
    reversed_target,
    split_among,
)

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
weights_st = st.dictionaries(st.integers(min_value=1, max_value=10**6),
                             st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8)


def test_attributable_is_floored_basis_points():
    assert attributable_fen(4500, 3000) == 1350
    assert attributable_fen(999, 3333) == 332  # 332.9667 -> 332
    assert attributable_fen(1000, 10000) == 1000 and attributable_fen(1000, 0) == 0
    assert attributable_fen(1000, 5000, covered=1, of=4) == 125  # lots cover a quarter
    for bad in ((-1, 100), (100, 10001), (100, -1)):
        with pytest.raises(ValueError):
            attributable_fen(*bad)
    with pytest.raises(ValueError):
        attributable_fen(100, 100, covered=5, of=4)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=10000))
def test_attributable_never_exceeds_the_exact_share(net, share):
    amount = attributable_fen(net, share)
    assert 0 <= amount * 10000 <= net * share < (amount + 1) * 10000


@given(st.integers(min_value=0, max_value=10**10), weights_st)
def test_a_split_sums_exactly_whatever_the_order_of_households(amount, weights):
    parts = split_among(amount, weights)
    assert sum(parts.values()) == amount
    assert all(p > 0 for p in parts.values()) and set(parts) <= set(weights)
    assert split_among(amount, dict(reversed(list(weights.items())))) == parts
    total = sum(weights.values())
    for household, part in parts.items():  # within one fen of the exact proportion
        assert abs(part * total - amount * weights[household]) < total


def test_split_ties_go_to_the_lower_household_id():
    assert split_among(1, {7: 1, 3: 1, 5: 1}) == {3: 1}
    assert split_among(2, {7: 1, 3: 1, 5: 1}) == {3: 1, 5: 1}
    with pytest.raises(ValueError):
        split_among(1, {1: 0})


def test_lots_are_drawn_first_in_first_out():
    lots = [Lot(1, 10, 3), Lot(2, 11, 0), Lot(3, 12, 5), Lot(4, 10, 2)]
    assert draw_fifo(lots, 4) == [Draw(1, 10, 3), Draw(3, 12, 1)]
    assert draw_fifo(lots, 20) == [Draw(1, 10, 3), Draw(3, 12, 5), Draw(4, 10, 2)]
    assert lot_weights(draw_fifo(lots, 20)) == {10: 5, 12: 5}
    assert draw_fifo(lots, 0) == []


@given(st.lists(st.integers(min_value=0, max_value=50), max_size=10),
       st.integers(min_value=0, max_value=300))
def test_fifo_uses_each_lot_up_before_the_next(remaining, quantity):
    lots = [Lot(i, 100 + i % 3, r) for i, r in enumerate(remaining)]
    draws = draw_fifo(lots, quantity)
    assert sum(d.quantity for d in draws) == min(quantity, sum(remaining))
    by_lot = {d.lot_id: d.quantity for d in draws}
    assert all(0 < by_lot[lot.id] <= lot.remaining for lot in lots if lot.id in by_lot)
    used = [lot for lot in lots if lot.id in by_lot]
    for lot in used[:-1]:  # every lot before the last one touched is used up ...
        assert by_lot[lot.id] == lot.remaining
    if used:  # ... and no lot after it is touched
        later = [lot for lot in lots if lot.id > used[-1].id]
        assert not any(lot.id in by_lot for lot in later)


@given(unit=st.integers(min_value=1, max_value=10**6), quantity=st.integers(1, 200),
       share=st.integers(0, 10000),
       remaining=st.lists(st.integers(min_value=0, max_value=60), max_size=8))
def test_a_lot_backed_line_attributes_only_what_lots_cover_and_splits_it_exactly(
        unit, quantity, share, remaining):
    lots = [Lot(i, 500 + i % 4, r) for i, r in enumerate(remaining)]
    draws = draw_fifo(lots, quantity)
    weights = lot_weights(draws)
    covered = sum(weights.values())
    net = unit * quantity
    amount = attributable_fen(net, share, covered, quantity)
    assert amount == net * share * covered // (10000 * quantity)
    assert amount <= attributable_fen(net, share)  # never more than a fully covered line
    parts = split_among(amount, weights) if weights else {}
    assert sum(parts.values()) == amount and set(parts) <= set(weights)
    for household, part in parts.items():  # in proportion to the units drawn, within rounding
        assert abs(part * covered - amount * weights[household]) < covered


@settings(max_examples=300)
@given(net=st.integers(min_value=0, max_value=10**8), share=st.integers(0, 10000),
       shipping=st.integers(min_value=0, max_value=10**5), weights=weights_st,
       cuts=st.lists(st.integers(min_value=1, max_value=10**6), max_size=8),
       full=st.booleans())
def test_partial_refunds_reverse_exactly_and_never_below_zero(net, share, shipping, weights,
                                                               cuts, full):
    paid = net + shipping  # refunds may reach the shipping too; the goods go back first
    if net == 0:
        return
    attributable = attributable_fen(net, share)
    held = split_among(attributable, weights)
    posted = dict(held)
    refunds, refunded = [], 0
    for cut in cuts:  # refunds of arbitrary sizes while money is left
        step = min(cut, paid - refunded)
        if step == 0:
            break
        refunds.append(step)
        refunded += step
    if full and refunded < paid:
        refunds.append(paid - refunded)
    before = 0
    for step in refunds:
        after = before + step
        taken = reversal_parts(held, attributable, net, before, after)
        for household, amount in taken.items():
            assert amount > 0
            held[household] -= amount
            assert held[household] >= 0  # nobody gives back more than it holds
        reversed_total = attributable - sum(held.values())
        # exact after every refund: the goods' part of what came back, floored
        assert reversed_total == attributable * min(after, net) // net
        before = after
    assert all(0 <= held[h] <= posted[h] for h in posted)
    if before >= net:  # all the goods' money is back: nothing stays attributed
        assert sum(held.values()) == 0


def test_refund_arguments_are_checked():
    with pytest.raises(ValueError):
        reversal_parts({1: 10}, 10, 100, 50, 40)
    with pytest.raises(ValueError):
        reversal_parts({1: -1}, 10, 100, 0, 50)
    with pytest.raises(ValueError):
        reversed_target(10, 0, 5)  # something attributed from no goods
    assert reversal_parts({1: 0}, 10, 100, 0, 100) == {}  # already all taken back


def test_the_goods_are_refunded_before_the_shipping():
    # goods 100.00, shipping 10.00, attributable 30.00
    assert reversed_target(3000, 10000, 5000) == 1500  # half the goods' money back
    assert reversed_target(3000, 10000, 10000) == 3000  # the goods' money back: all of it
    assert reversed_target(3000, 10000, 11000) == 3000  # and the shipping too
    assert reversed_target(3000, 10000, 1) == 0  # floored
    assert reversed_target(0, 0, 500) == 0  # nothing was attributed
    assert reversal_parts({1: 1000, 2: 2000}, 3000, 10000, 0, 10000) == {1: 1000, 2: 2000}


# ---- the chain --------------------------------------------------------------------------------

def build_chain(amounts: list[int]) -> list:
    chain, seq, last = [], 0, GENESIS_HASH
    for i, amount in enumerate(amounts):
        entry = make_entry(seq, last, 100 + i % 4, 500 + i // 3, amount,
                           SALE if amount > 0 else REVERSAL, T0 + timedelta(seconds=i))
        chain.append(entry)
        seq, last = entry.seq, entry.hash
    return chain


amounts_st = st.lists(st.integers(min_value=-10**6, max_value=10**6).filter(bool), min_size=2,
                      max_size=40)


@given(amounts_st)
def test_an_untouched_chain_holds(amounts):
    chain = build_chain(amounts)
    assert first_break(chain) is None
    assert chain[0].prev_hash == GENESIS_HASH and chain[0].seq == 1
    assert all(b.prev_hash == a.hash for a, b in pairwise(chain))


@given(amounts_st, st.data())
def test_a_changed_amount_is_found_at_its_entry(amounts, data):
    chain = build_chain(amounts)
    i = data.draw(st.integers(min_value=0, max_value=len(chain) - 1))
    chain[i] = replace(chain[i], amount_fen=chain[i].amount_fen * 2)
    assert first_break(chain)[0] == i + 1


@given(amounts_st, st.data())
def test_a_deleted_entry_is_found_where_it_was(amounts, data):
    chain = build_chain(amounts)
    i = data.draw(st.integers(min_value=0, max_value=len(chain) - 2))
    del chain[i]
    position, reason = first_break(chain)
    assert position == i + 1 and "有记录缺失或被移动" in reason


@given(amounts_st, st.data())
def test_two_entries_swapped_are_found_at_the_first(amounts, data):
    chain = build_chain(amounts)
    i = data.draw(st.integers(min_value=0, max_value=len(chain) - 2))
    j = data.draw(st.integers(min_value=i + 1, max_value=len(chain) - 1))
    chain[i], chain[j] = chain[j], chain[i]
    assert first_break(chain)[0] == i + 1


def test_a_rehashed_edit_still_breaks_the_next_link_and_kinds_must_fit_amounts():
    chain = build_chain([100, 200, 300])
    forged = make_entry(1, chain[0].hash, chain[1].household_id, chain[1].order_line_id, 999, SALE,
                        chain[1].created_at)  # an edit with a fresh hash of its own
    assert first_break([chain[0], forged, chain[2]]) == (
        3, "所记前一条的哈希与前一条记录不符")
    wrong_kind = make_entry(0, GENESIS_HASH, 1, 1, 100, REVERSAL, T0)
    assert "类型" in first_break([wrong_kind])[1]


@given(amounts_st)
def test_the_fast_digest_is_the_chain_hash(amounts):
    from marketplace.ledger.rules import digest, moment_text
    for e in build_chain(amounts):
        assert digest(e.prev_hash, e.seq, e.household_id, e.order_line_id, e.amount_fen, e.kind,
                      moment_text(e.created_at)) == e.hash
