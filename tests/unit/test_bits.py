"""Document sets as integers: conversions both ways agree with the obvious definition."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from marketplace.search import bits


@st.composite
def position_sets(draw):
    size = draw(st.integers(min_value=0, max_value=5000))
    members = draw(st.sets(st.integers(min_value=0, max_value=max(0, size - 1)))) if size else set()
    return size, sorted(members)


def reference(members) -> int:
    out = 0
    for p in members:
        out |= 1 << p
    return out


@given(position_sets())
def test_from_positions_sets_exactly_those_bits(case):
    size, members = case
    expected = reference(members)
    assert bits.from_positions(members, size) == expected  # byte per position, packed
    assert bits.from_positions(members, size, len(members)) == expected  # sparse path


@given(position_sets())
def test_positions_lists_the_members_in_order(case):
    _size, members = case
    assert bits.positions(reference(members)) == members


@given(st.integers(min_value=1, max_value=3000), st.data())
def test_dense_and_sparse_sets_round_trip(size, data):
    density = data.draw(st.sampled_from([0.001, 0.05, 0.5, 0.95, 1.0]))
    rnd = data.draw(st.randoms(use_true_random=False))
    members = [p for p in range(size) if rnd.random() < density]
    x = bits.from_positions(members, size)
    assert x.bit_count() == len(members)
    assert bits.positions(x) == members
    raw = bits.as_bytes(x, size)
    assert [p for p in range(size) if raw[p >> 3] >> (p & 7) & 1] == members
