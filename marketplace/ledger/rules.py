"""Pure attribution rules: what a line gives households, how a refund takes it back, and the hash
chain that makes the ledger tamper-evident. Plain values in, plain values out (no database).

- A line's attributable amount is floor(net x share / 10000) fen (net: the line after discounts,
  shipping excluded), scaled by the part of it that supply lots cover when lots are the
  beneficiaries.
- Before paying, the same rule answers what a line would give (`estimate_fen` over a product's
  `ShareTerms`): exact for products without lots, an estimate from the lots held now for
  lot-backed ones.
- It is split among households by weight with largest-remainder rounding, households in id
  order (so the split does not depend on the order they were listed in): the parts sum exactly.
- A refund is money back for the goods first, shipping last (so money given back for goods
  never stays attributed): a refund of part of an order reverses, for each line, enough that
  the line's reversals so far are floor(attributable x min(refunded so far, goods) / goods),
  goods being the order's goods amount (its lines, shipping excluded). The reversals of all
  refunds of a line sum exactly to what a single refund of the same total would reverse, and a
  refund of all the goods reverses everything. Each reversal is split by what the households
  still hold of the line, so none can go below zero.
- Ledger entries are chained: each stores the previous entry's hash and
  sha256(previous hash | its canonical content); `first_break` walks a chain and names the first
  entry that does not fit.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from marketplace.core.i18n import Msg
from marketplace.core.money import split_largest_remainder

SHARE_MAX_BP = 10_000
GENESIS_HASH = "0" * 64
SALE = "sale"  # attributed when a payment is captured (amount > 0)
REVERSAL = "reversal"  # taken back when money is refunded (amount < 0)
KINDS = (SALE, REVERSAL)


def attributable_fen(net_fen: int, share_bp: int, covered: int = 1, of: int = 1) -> int:
    """floor(net x share / 10000 x covered / of): what a line gives households. `covered` of `of`
    units are backed by beneficiaries (all of them unless supply lots fall short)."""
    if net_fen < 0:
        raise ValueError("net amount must be >= 0")
    if not 0 <= share_bp <= SHARE_MAX_BP:
        raise ValueError("share must be 0..10000 basis points")
    if of <= 0 or not 0 <= covered <= of:
        raise ValueError("covered must be 0..of, of > 0")
    return net_fen * share_bp * covered // (SHARE_MAX_BP * of)


def share_bp_of(product_share_bp: int | None, seller_share_bp: int) -> int:
    """The households' share a line is posted with: the product's own, else its seller's."""
    return seller_share_bp if product_share_bp is None else product_share_bp


def line_share_fen(net_fen: int, quantity: int, share_bp: int, covered: int) -> int:
    """What a line of `quantity` units worth `net_fen` gives households when `covered` of its
    units have beneficiaries: all of them when the seller's own households take the line, the
    units its supply lots cover for a lot-backed line (more are never counted). The one rule
    posting (`posting.post_sale`) and the estimate shown before paying (`estimate_fen`) use."""
    return attributable_fen(net_fen, share_bp, min(covered, quantity), quantity)


@dataclass(frozen=True)
class ShareTerms:
    """What a product's sales give households, as posting reads them: the share (the product's
    or its seller's), whether its lines go through supply lots, and how many units have
    beneficiaries: for a lot-backed product the units its lots still hold; otherwise None when
    the seller has households to give to (every unit), 0 when it has none."""
    share_bp: int
    lot_backed: bool
    backed_units: int | None


def estimate_fen(terms: ShareTerms, unit_price_fen: int, quantity: int = 1) -> int:
    """What `quantity` units at `unit_price_fen` would give households if paid now: exactly
    what `post_sale` credits for a product without lots; for a lot-backed one an estimate from
    the lots held now (a line draws min(quantity, units held), first in first out, at payment)."""
    return line_share_fen(unit_price_fen * quantity, quantity, terms.share_bp,
                          covered_units(terms, quantity))


def covered_units(terms: ShareTerms, quantity: int) -> int:
    """Of `quantity` units, those with beneficiaries if paid now."""
    if quantity <= 0:
        raise ValueError("quantity must be > 0")
    return quantity if terms.backed_units is None else min(quantity, terms.backed_units)


def split_among(amount_fen: int, weights: Mapping[int, int]) -> dict[int, int]:
    """`amount_fen` split by household weight (household id -> weight > 0), exactly, households
    in id order for the tie-break; households that get nothing are left out."""
    if any(w <= 0 for w in weights.values()):
        raise ValueError("weights must be > 0")
    households = sorted(weights)
    parts = split_largest_remainder(amount_fen, [weights[h] for h in households])
    return {h: p for h, p in zip(households, parts, strict=True) if p}


@dataclass(frozen=True)
class Lot:
    """A supply lot (收购批次) still holding `remaining` units, bought from `household_id`."""
    id: int
    household_id: int
    remaining: int


@dataclass(frozen=True)
class Draw:
    lot_id: int
    household_id: int
    quantity: int


def draw_fifo(lots: Sequence[Lot], quantity: int) -> list[Draw]:
    """Take `quantity` units from `lots` in the order given (oldest first): each lot is used up
    before the next is touched. Fewer units are drawn when the lots hold fewer."""
    if quantity < 0:
        raise ValueError("quantity must be >= 0")
    draws, left = [], quantity
    for lot in lots:
        if left == 0:
            break
        take = min(left, max(lot.remaining, 0))
        if take:
            draws.append(Draw(lot.id, lot.household_id, take))
            left -= take
    return draws


def lot_weights(draws: Iterable[Draw]) -> dict[int, int]:
    """Household -> units drawn from it (the weights of a lot-backed line)."""
    weights: dict[int, int] = {}
    for draw in draws:
        weights[draw.household_id] = weights.get(draw.household_id, 0) + draw.quantity
    return weights


def reversed_target(attributable: int, goods_fen: int, refunded_fen: int) -> int:
    """What a line's reversals add up to once its order has `refunded_fen` back: floor(
    attributable x min(refunded, goods) / goods), the goods being refunded before the shipping
    (all of it once the goods are refunded in full)."""
    if refunded_fen < 0 or goods_fen < 0 or attributable < 0:
        raise ValueError("amounts must be >= 0")
    if attributable == 0:
        return 0
    if goods_fen == 0:
        raise ValueError("a line that attributes something has goods > 0")
    return attributable * min(refunded_fen, goods_fen) // goods_fen


def reversal_parts(held: Mapping[int, int], attributable: int, goods_fen: int,
                   refunded_before: int, refunded_after: int) -> dict[int, int]:
    """What a refund takes back from each household for one line (positive amounts).

    `held`: household -> what it still holds of the line (posted minus reversed so far);
    `attributable`: the line's attributable amount; the order's `goods_fen` (its lines,
    shipping excluded), and the order's refunded total before and after this refund. The
    line's reversals reach `reversed_target(attributable, goods, refunded_after)`; this
    refund's part of that is split by what each household holds (largest remainder), so no
    household gives back more than it holds."""
    if not 0 <= refunded_before <= refunded_after:
        raise ValueError("refunds must satisfy 0 <= before <= after")
    if any(v < 0 for v in held.values()):
        raise ValueError("held amounts must be >= 0")
    holding = sum(held.values())
    reversed_so_far = attributable - holding
    target = reversed_target(attributable, goods_fen, refunded_after)
    take = min(max(target - reversed_so_far, 0), holding)
    if take == 0:
        return {}
    return split_among(take, {h: v for h, v in held.items() if v > 0})


# ---- the hash chain ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ChainEntry:
    seq: int  # 1, 2, 3 ... without gaps
    household_id: int
    order_line_id: int
    amount_fen: int  # > 0 for a sale, < 0 for a reversal
    kind: str
    created_at: datetime
    prev_hash: str
    hash: str


def moment_text(created_at: datetime) -> str:
    """An entry's time in its canonical form: UTC, ISO 8601, microseconds."""
    if created_at.tzinfo is None:
        raise ValueError("naive datetime")
    return created_at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(seq: int, household_id: int, order_line_id: int, amount_fen: int, kind: str,
              created_at: datetime) -> bytes:
    """The content an entry's hash covers, in one fixed text form."""
    return f"{seq}|{household_id}|{order_line_id}|{amount_fen}|{kind}|" \
           f"{moment_text(created_at)}".encode()


def chain_hash(prev_hash: str, content: bytes) -> str:
    """sha256 of the previous entry's hash and this entry's canonical content."""
    return hashlib.sha256(prev_hash.encode() + b"|" + content).hexdigest()


def digest(prev_hash: str, seq: int, household_id: int, order_line_id: int, amount_fen: int,
           kind: str, moment: str) -> str:
    """chain_hash from the parts, the time given as `moment_text` (the verifier's fast path)."""
    return hashlib.sha256(f"{prev_hash}|{seq}|{household_id}|{order_line_id}|{amount_fen}|"
                          f"{kind}|{moment}".encode()).hexdigest()


def make_entry(prev_seq: int, prev_hash: str, household_id: int, order_line_id: int,
               amount_fen: int, kind: str, created_at: datetime) -> ChainEntry:
    """The entry that follows the one numbered `prev_seq` with hash `prev_hash` (0 and
    GENESIS_HASH for the first)."""
    seq = prev_seq + 1
    content = canonical(seq, household_id, order_line_id, amount_fen, kind, created_at)
    return ChainEntry(seq, household_id, order_line_id, amount_fen, kind, created_at, prev_hash,
                      chain_hash(prev_hash, content))


def entry_problem(entry: ChainEntry, expected_seq: int, expected_prev: str) -> str | None:
    """Why `entry` does not fit where the chain expects it (None if it does)."""
    if entry.seq != expected_seq:
        return Msg("编号为 %(seq)s，此处应为 %(expected)s（有记录缺失或被移动）", seq=entry.seq,
                   expected=expected_seq)
    if entry.prev_hash != expected_prev:
        return Msg("所记前一条的哈希与前一条记录不符")
    if entry.kind not in KINDS or (entry.amount_fen > 0) != (entry.kind == SALE) \
            or entry.amount_fen == 0:
        return Msg("类型 %(kind)s 与金额 %(amount)s 不符", kind=entry.kind, amount=entry.amount_fen)
    content = canonical(entry.seq, entry.household_id, entry.order_line_id, entry.amount_fen,
                        entry.kind, entry.created_at)
    if chain_hash(entry.prev_hash, content) != entry.hash:
        return Msg("内容与其哈希不符（写入后被改动）")
    return None


def first_break(entries: Iterable[ChainEntry]) -> tuple[int, str] | None:
    """Walk a chain in stored order: (position, reason) of the first entry that does not fit,
    position 1-based; None when the whole chain holds."""
    expected_prev = GENESIS_HASH
    for position, entry in enumerate(entries, start=1):
        problem = entry_problem(entry, position, expected_prev)
        if problem:
            return position, problem
        expected_prev = entry.hash
    return None
