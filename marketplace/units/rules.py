"""Pure rules of units and group purchases: tier prices, the fill of a campaign, what a
participant pays and gets back, and a filing's reserved amount. Plain values in, plain values
out; money in integer fen.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from marketplace.core.i18n import Msg  # a message that keeps its template (translatable)

DEFAULT_MINIMUM_SHARE_BP = 1000  # 10%: the national rule for budget units' canteens
MAX_TIERS = 10


@dataclass(frozen=True)
class Tier:
    min_quantity: int  # from this many units of the product in all ...
    price_fen: int  # ... everyone pays this a unit


def tier_problems(list_price_fen: int, tiers: Sequence[Tier]) -> list[str]:
    """What is wrong with a product's tiers (empty: they are fine). Tiers go up in quantity
    and down in price, none above the catalogue price, every quantity and price positive."""
    problems = []
    if not tiers:
        return ["每个商品至少设置一档团购价"]
    if len(tiers) > MAX_TIERS:
        problems.append(Msg("每个商品最多设置 %(n)s 档价格", n=MAX_TIERS))
    for i, tier in enumerate(tiers):
        if tier.min_quantity < 1:
            problems.append(Msg("第 %(n)s 档的起团数量必须是正整数", n=i + 1))
        if tier.price_fen < 1:
            problems.append(Msg("第 %(n)s 档的价格必须大于 0", n=i + 1))
        elif tier.price_fen > list_price_fen:
            problems.append(Msg("第 %(n)s 档的价格不能高于商品原价", n=i + 1))
        if i and not tier.min_quantity > tiers[i - 1].min_quantity:
            problems.append("各档起团数量必须从小到大排列")
        if i and not tier.price_fen < tiers[i - 1].price_fen:
            problems.append("数量越多价格应越低：各档价格必须从高到低排列")
    return list(dict.fromkeys(problems))


def tier_index(tiers: Sequence[Tier], total: int) -> int | None:
    """The deepest tier `total` units reach (an index), None below the first."""
    reached = None
    for i, tier in enumerate(tiers):
        if total >= tier.min_quantity:
            reached = i
    return reached


def unit_price(list_price_fen: int, tiers: Sequence[Tier], total: int) -> int:
    """What a unit costs when `total` units are committed: the deepest tier reached, or the
    catalogue price below the first tier."""
    i = tier_index(tiers, total)
    return list_price_fen if i is None else tiers[i].price_fen


def starting_price(list_price_fen: int, tiers: Sequence[Tier]) -> int:
    """What a participant pays when joining: the price with one unit committed in all, which no
    later tier exceeds (so that the close only ever gives money back)."""
    return unit_price(list_price_fen, tiers, 1)


def next_tier(tiers: Sequence[Tier], total: int) -> tuple[Tier, int] | None:
    """The next tier above what `total` reaches, and how many units it misses; None at the
    deepest."""
    for tier in tiers:
        if tier.min_quantity > total:
            return tier, tier.min_quantity - total
    return None


def amount_fen(prices: Mapping[int, int], quantities: Mapping[int, int]) -> int:
    """What `quantities` (product id -> units) cost at `prices` (product id -> fen a unit)."""
    return sum(prices[pid] * q for pid, q in quantities.items())


def difference_fen(paid_fen: int, final_fen: int) -> int:
    """What goes back to a participant who paid `paid_fen` once the final amount is known."""
    if final_fen > paid_fen:
        raise ValueError("a campaign's final amount never exceeds what was paid")
    return paid_fen - final_fen


def reached_minimum(total: int, minimum: int) -> bool:
    return total >= minimum


def reserved_fen(canteen_spend_fen: int, share_bp: int) -> int:
    """The reserved amount of a filing: the share of the canteen spend, rounded up to the fen
    (a unit never reserves less than its share)."""
    if canteen_spend_fen < 0 or not 0 <= share_bp <= 10000:
        raise ValueError("spend >= 0 and 0 <= share <= 10000 bp")
    return -(-canteen_spend_fen * share_bp // 10000)


def minimum_share_bp(path: str, minimums: Mapping[str, int],
                     default_bp: int = DEFAULT_MINIMUM_SHARE_BP) -> int:
    """The minimum share for a unit in the region at `path` ('/43/4305/430525/'): the deepest
    region of the path with a minimum set (`minimums`: region path -> bp), else the default."""
    best, best_len = default_bp, -1
    for region_path, bp in minimums.items():
        if path.startswith(region_path) and len(region_path) > best_len:
            best, best_len = bp, len(region_path)
    return best


def progress_bp(counted_fen: int, reserved: int) -> int | None:
    """Counted / reserved in basis points (may pass 10000); None without a reserved amount."""
    if reserved <= 0:
        return None
    return counted_fen * 10000 // reserved


def filing_deadline(year: int, month: int = 3, day: int = 31) -> date:
    """The day a year's filing is due (by default 31 March of that year)."""
    return date(year, month, day)
