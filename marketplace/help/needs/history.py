"""A need's history and how much of it is covered: shared by posting and review, claims and the
pool's allocations, so that every step is recorded the same way."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from marketplace.core.time import now_utc
from marketplace.help.needs.models import Need, NeedEvent, NeedStatus, NeedWhat


def record(session: Session, need: Need, kind: str, actor_id: int | None, note: str = "", *,
           claim_id: int | None = None, now: datetime | None = None) -> NeedEvent:
    """Append one step to the need's history (kinds: see `NeedEvent`)."""
    event = NeedEvent(need_id=need.id, claim_id=claim_id, kind=kind, actor_id=actor_id,
                      note=note[:500], created_at=now or now_utc())
    session.add(event)
    return event


def remaining_fen(need: Need) -> int | None:
    """What is still to cover of an amount need (None for goods and services: claimed whole)."""
    if need.what != NeedWhat.amount or need.amount_fen is None:
        return None
    return max(0, need.amount_fen - need.claimed_fen)


def cover(need: Need, amount_fen: int | None, now: datetime) -> None:
    """A claim (or an allocation) covers `amount_fen` of an amount need, or the whole of any
    other (None): the need is matched when nothing remains."""
    if need.what == NeedWhat.amount and need.amount_fen is not None:
        need.claimed_fen += need.amount_fen - need.claimed_fen if amount_fen is None else amount_fen
        whole = need.claimed_fen >= need.amount_fen
    else:
        whole = True
    if whole:
        need.status = NeedStatus.claimed
        need.matched_at = need.matched_at or now


def uncover(need: Need, amount_fen: int | None) -> None:
    """A held claim lapsed or was given up: its part is open again (and the need unmatched)."""
    if need.what == NeedWhat.amount and need.amount_fen is not None:
        taken = need.amount_fen if amount_fen is None else amount_fen
        need.claimed_fen = max(0, need.claimed_fen - taken)
    if need.status == NeedStatus.claimed:
        need.status = NeedStatus.open
        need.matched_at = None
