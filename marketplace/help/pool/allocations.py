"""Allocations: an office gives pool money to an approved amount need in its region subtree.

At most what the pool holds (read with the pool's head locked, so two offices never spend the
same fen) and what the need still lacks (`history.remaining_fen`, its row locked); the need's
history records it and `history.cover` counts it like a claim (matched when nothing remains);
the money is a delivered claim of the office's that the household's liaison confirms (the need
is fulfilled once every part is confirmed); audited. The public page lists every allocation with the household's name masked.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from marketplace.accounts.models import Role, User
from marketplace.audit import services as audit
from marketplace.core import policy
from marketplace.core.errors import Forbidden, NotFound, RuleBroken, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.money import format_fen
from marketplace.core.time import now_utc
from marketplace.help.needs import history
from marketplace.help.needs.models import (
    Claim,
    ClaimStatus,
    DeliveryKind,
    Need,
    NeedStatus,
    NeedWhat,
)
from marketplace.help.pool import chain
from marketplace.help.pool.models import Allocation, PoolEntryKind
from marketplace.regions.models import Region


def office_region(user: User, region: Region) -> Region | None:
    """The region of the user's office grant that covers `region` (the nearest one); None
    when no grant does."""
    covering = [g.region for g in user.grants
                if g.role == Role.office and g.region is not None
                and region.path.startswith(g.region.path)]
    return max(covering, key=lambda r: len(r.path)) if covering else None


def visible_need(session: Session, user: User, need_id: int) -> Need:
    """A need an office over its village (or a platform admin) may allocate to; 404 else."""
    policy.require_user(user)
    need = session.get(Need, need_id)
    if need is None or not (policy.is_admin(user) or policy.office_covers(user, need.village)):
        raise NotFound("未找到该需求，或不在您的管辖范围内")
    return need


def allocate(session: Session, actor: User, need: Need, amount_fen: int, reason: str = "", *,
             now: datetime | None = None) -> Allocation:
    """Give `amount_fen` of the pool to `need` (see the module)."""
    now = now or now_utc()
    policy.require_user(actor)
    if not (policy.is_admin(actor) or actor.has_role(Role.office)):
        raise Forbidden("只有帮扶办可以拨付资金池")
    if need is None or not (policy.is_admin(actor) or policy.office_covers(actor, need.village)):
        raise NotFound("未找到该需求，或不在您的管辖范围内")
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise ValidationFailed("拨付金额必须大于 0", field="amount")
    reason = (reason or "").strip()[:200]
    need = session.execute(select(Need).where(Need.id == need.id).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()
    if need.what != NeedWhat.amount or need.amount_fen is None:
        raise RuleBroken("只能向资金类需求拨付", code="not_an_amount_need")
    if need.status != NeedStatus.open:
        raise RuleBroken(Msg("需求%(s)s，只能向已审核通过、待认领的需求拨付",
                             s=Msg(need.status_label)), code="need_not_open")
    left = history.remaining_fen(need) or 0
    if amount_fen > left:
        raise RuleBroken(Msg("超过该需求尚缺的 %(left)s", left=format_fen(left)),
                         code="over_remaining")
    chain.lock(session)
    held = chain.balance(session)
    if amount_fen > held:
        raise RuleBroken(Msg("资金池余额只有 %(balance)s，不足以拨付", balance=format_fen(held)),
                         code="pool_balance_low")
    region = (need.village if policy.is_admin(actor) and not policy.office_covers(actor, need.village)
              else office_region(actor, need.village))
    allocation = Allocation(need_id=need.id, region_id=region.id, amount_fen=amount_fen,
                            reason=reason, decided_by_id=actor.id, created_at=now)
    session.add(allocation)
    session.flush()
    chain.append(session, PoolEntryKind.allocation, -amount_fen, allocation_id=allocation.id,
                 now=now)
    history.record(session, need, "allocated", actor.id,
                   str(Msg("资金池拨付 %(amount)s", amount=format_fen(amount_fen)))
                   + (f"：{reason}" if reason else ""), now=now)
    history.cover(need, amount_fen, now)
    # the money reaches the household like a donor's delivered claim: its liaison confirms
    # receipt, and the need is fulfilled when every part of it is confirmed
    session.add(Claim(need_id=need.id, donor_id=actor.id, amount_fen=amount_fen,
                      status=ClaimStatus.delivered, held_until=now,
                      delivery_kind=DeliveryKind.money.value,
                      delivery_note=str(Msg("爱心资金池拨付 %(amount)s",
                                            amount=format_fen(amount_fen))),
                      delivered_at=now, created_at=now))
    audit.record(session, actor, "pool_allocated", "pool_allocation", allocation.id,
                 after={"need": need.id, "amount_fen": amount_fen, "household": need.household_id},
                 note=reason)
    session.flush()
    return allocation


# ---- what offices and the public see -------------------------------------------------------------

def open_amount_needs(session: Session, user: User, limit: int = 100) -> list[Need]:
    """Approved amount needs still lacking money in the user's subtree (offices), oldest first."""
    query = (select(Need).join(Region, Region.id == Need.village_id)
             .where(Need.status == NeedStatus.open, Need.what == NeedWhat.amount)
             .options(joinedload(Need.household), joinedload(Need.village))
             .order_by(Need.id).limit(limit))
    if not policy.is_admin(user):
        paths = policy.office_paths(user)
        if not paths:
            return []
        from sqlalchemy import or_
        query = query.where(or_(*[Region.path.startswith(p) for p in paths]))
    return list(session.scalars(query).unique())


@dataclass(frozen=True)
class PublicAllocation:
    id: int
    at: datetime
    amount_fen: int
    household: str  # masked
    village: str
    need_title: str
    category: str


def published(session: Session, *, page: int = 1, per_page: int = 20) -> tuple[list, int]:
    """Every allocation, newest first, with the household's name masked and its village."""
    total = session.scalar(select(func.count()).select_from(Allocation)) or 0
    rows = session.scalars(select(Allocation).options(
        joinedload(Allocation.need).joinedload(Need.household),
        joinedload(Allocation.need).joinedload(Need.village))
        .order_by(Allocation.id.desc()).offset((page - 1) * per_page).limit(per_page)).unique()
    return [PublicAllocation(a.id, a.created_at, a.amount_fen, a.need.household.masked_name,
                             a.need.village.name, a.need.title, a.need.category_label)
            for a in rows], total
