"""Attributed income (归属收入) for the pages that list households: what the ledger holds now for
each household (sales minus reversals), and its sum over an office's subtrees and by township.
Always sums of the ledger, never stored totals."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from marketplace.households.models import Household
from marketplace.ledger.models import LedgerEntry
from marketplace.regions.models import Region
from marketplace.regions.services import within


def by_household(session: Session, household_ids: Iterable[int]) -> dict[int, int]:
    """Household id -> what the ledger holds for it (households without entries are left out)."""
    ids = sorted(set(household_ids))
    if not ids:
        return {}
    return {hid: int(amount) for hid, amount in session.execute(
        select(LedgerEntry.household_id, func.sum(LedgerEntry.amount_fen))
        .where(LedgerEntry.household_id.in_(ids)).group_by(LedgerEntry.household_id))}


@dataclass
class RegionIncome:
    total_fen: int = 0  # everything the households under the roots hold
    households: int = 0  # how many of them hold something
    by_township: dict[str, int] = field(default_factory=dict)  # township code -> fen


def in_regions(session: Session, roots: Sequence[Region] | None) -> RegionIncome:
    """The attributed income of the households under `roots` (None: everywhere), by township."""
    village, township = aliased(Region), aliased(Region)
    amount = func.sum(LedgerEntry.amount_fen)
    rows = session.execute(
        select(township.code, amount)
        .join(Household, Household.id == LedgerEntry.household_id)
        .join(village, village.id == Household.village_id)
        .join(township, township.id == village.parent_id)
        .where(within(village.path, roots))
        .group_by(township.code, LedgerEntry.household_id).having(amount > 0))
    income = RegionIncome()
    for code, fen in rows:
        income.by_township[code] = income.by_township.get(code, 0) + int(fen)
        income.total_fen += int(fen)
        income.households += 1
    return income
